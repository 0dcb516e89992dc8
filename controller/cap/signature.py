"""XML signatures on CAP alerts (CAP 1.2 §3.3.2: an enveloped XML-Signature in the <alert>).

Owns checking a document against the certificate a source signs with, with signxml (the maintained
XML-DSig library); the alert loaxa then reads is the part the signature covers, never the rest of the
document (a wrapped, unsigned alert beside a signed one is not read). Must not parse anything else or store.
"""

from lxml import etree
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier

from controller.cap.model import CapRejected
from controller.cap.parse import parse_xml

_DSIG = "{http://www.w3.org/2000/09/xmldsig#}Signature"


def verify_signed(data: bytes, certificate_pem: str) -> etree._Element:
    """The signed <alert> of `data` when its enveloped signature verifies against `certificate_pem`."""
    root = parse_xml(data)  # refuses DTDs and malformed XML before the verifier sees anything
    if root.find(_DSIG) is None:
        raise CapRejected(
            "no_signature", "Nguồn này ký số mọi cảnh báo, nhưng văn bản không có chữ ký; không phát."
        )
    try:
        # The source's certificate is the trust anchor: the signature need not carry it (require_x509).
        result = XMLVerifier().verify(
            root, x509_cert=certificate_pem, expect_config=SignatureConfiguration(require_x509=False)
        )
    except (InvalidSignature, InvalidDigest, InvalidCertificate, InvalidInput) as exc:
        raise CapRejected(
            "bad_signature", f"Chữ ký số không hợp lệ ({exc}); không phát. Kiểm tra chứng thư của nguồn."
        ) from exc
    if isinstance(result, list):  # one signature is expected; several would hide which part is signed
        raise CapRejected("bad_signature", "Văn bản có nhiều hơn một chữ ký; không phát.")
    signed = result.signed_xml
    if signed is None or signed.tag != root.tag:
        raise CapRejected("bad_signature", "Chữ ký không bao trọn <alert>; không phát.")
    return signed
