// "Phát trực tiếp": capture the microphone, show its level, send 250 ms webm/opus chunks to
// /api/v1/live/{id}/chunks with a sequence number, and show when the session is on air.
// Never hides the button: on plain HTTP or a refused microphone it says why and what to do.
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box) { return; }
  var api = box.dataset.api;  // /api/v1/live
  var token = box.dataset.token;
  var button = document.getElementById("live-button");
  var onair = document.getElementById("live-onair");
  var meter = document.getElementById("live-level");
  var problem = document.getElementById("live-problem");
  var session = null, recorder = null, stream = null, seq = 0, poll = null, queue = Promise.resolve();

  function say(text) { problem.textContent = text; problem.hidden = !text; }
  function show(state, text) { onair.dataset.state = state; onair.textContent = text; }
  function call(method, path, body) {
    var init = { method: method, headers: { authorization: "Bearer " + token } };
    if (body instanceof FormData) { init.body = body; }
    else if (body !== undefined) { init.body = JSON.stringify(body); init.headers["content-type"] = "application/json"; }
    return fetch(api + path, init).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { throw new Error((data.error && data.error.message) || ("Lỗi " + r.status)); }
        return data;
      });
    });
  }
  function whyNot() {
    if (!window.isSecureContext) {
      return "Trình duyệt chỉ cho dùng micro qua HTTPS. Hãy mở trang này bằng địa chỉ https:// của máy chủ " +
        "(quản trị viên bật TLS: loaxa tls, xem hướng dẫn vận hành), rồi thử lại.";
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
      return "Trình duyệt này không ghi được âm thanh. Hãy dùng Chrome hoặc Firefox bản mới.";
    }
    return "";
  }
  function meterOn(media) {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    var ctx = new Ctx(), analyser = ctx.createAnalyser(), data = new Uint8Array(1024);
    analyser.fftSize = 1024;
    ctx.createMediaStreamSource(media).connect(analyser);
    (function tick() {
      if (!stream) { ctx.close(); meter.value = 0; return; }
      analyser.getByteTimeDomainData(data);
      var peak = 0;
      for (var i = 0; i < data.length; i++) { peak = Math.max(peak, Math.abs(data[i] - 128) / 128); }
      meter.value = peak;
      window.requestAnimationFrame(tick);
    })();
  }
  function stopLocal(text) {
    if (recorder && recorder.state !== "inactive") { recorder.stop(); }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    if (poll) { window.clearInterval(poll); }
    recorder = null; stream = null; poll = null; session = null;
    button.textContent = "Bắt đầu phát trực tiếp";
    button.disabled = false;
    show("idle", text || "Chưa phát");
  }
  function watch() {
    poll = window.setInterval(function () {
      if (!session) { return; }
      call("GET", "/" + session).then(function (s) {
        if (s.state === "on_air") { show("on_air", "ĐANG PHÁT TRỰC TIẾP tới " + s.devices.length + " cụm loa"); }
        if (s.state === "ended") { stopLocal("Phiên đã kết thúc (" + s.end_reason + ")."); }
      }).catch(function () {});
    }, 1000);
  }
  function start() {
    var why = whyNot();
    if (why) { say(why); return; }
    say("");
    button.disabled = true;
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (media) {
      stream = media;
      meterOn(media);
      var villages = Array.prototype.map.call(
        document.querySelectorAll("#live-villages input[name=village]:checked"),
        function (box) { return box.value; });
      var title = document.getElementById("live-title").value || "Thông báo trực tiếp";
      return call("POST", "", { title: title, targets: villages.length ? { villages: villages } : {} });
    }).then(function (opened) {
      session = opened.id; seq = 0;
      show(opened.state === "pending" ? "pending" : "waiting",
        opened.state === "pending" ? "Chờ người thứ hai xác nhận…" : "Đang kết nối…");
      var type = MediaRecorder.isTypeSupported("audio/webm;codecs=opus") ? "audio/webm;codecs=opus" : "";
      recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
      recorder.addEventListener("dataavailable", function (event) {
        if (!session || !event.data.size) { return; }
        var form = new FormData(), id = session, n = seq++;
        form.append("seq", String(n));
        form.append("chunk", event.data, "chunk-" + n + ".webm");
        queue = queue.then(function () { return call("POST", "/" + id + "/chunks", form); })
          .catch(function (e) { say(e.message); });
      });
      recorder.start(250);
      button.textContent = "Kết thúc phát";
      button.disabled = false;
      watch();
    }).catch(function (e) {
      var name = e && e.name;
      if (name === "NotAllowedError" || name === "SecurityError") {
        say("Micro bị chặn. Hãy cho phép trang này dùng micro (biểu tượng ổ khoá cạnh địa chỉ trang), " +
          "rồi bấm lại nút.");
      } else if (name === "NotFoundError" || name === "NotReadableError") {
        say("Không tìm thấy micro dùng được. Hãy cắm micro (hoặc đóng ứng dụng khác đang dùng micro), " +
          "rồi bấm lại nút.");
      } else {
        say(e.message || String(e));
      }
      stopLocal();
    });
  }
  function end() {
    var id = session;
    button.disabled = true;
    stopLocal("Đang kết thúc…");
    queue.then(function () { return call("POST", "/" + id + "/end"); })
      .then(function (s) { show("idle", "Phiên đã kết thúc. Bản ghi được lưu."); return s; })
      .catch(function (e) { say(e.message); });
  }
  button.addEventListener("click", function () { if (session) { end(); } else { start(); } });
  var why = whyNot();
  if (why) { say(why); }
})();
