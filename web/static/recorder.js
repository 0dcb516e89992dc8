// Record a bulletin in the browser (MediaRecorder) and hand the recording to the form's file input,
// so it is sent like an uploaded file. Browsers give pages the microphone only in a secure context
// (HTTPS, or the machine itself): over plain HTTP on a LAN name, and on phones without MediaRecorder,
// the recorder stays hidden and a note in its place says why and what to do instead.
(function () {
  "use strict";
  var box = document.querySelector(".recorder");
  var input = document.getElementById("audio");
  if (!box || !input) {
    return;
  }

  function explain(text) {
    var note = document.createElement("p");
    note.className = "hint recorder-help";
    note.setAttribute("role", "note");
    note.textContent = text;
    box.parentNode.insertBefore(note, box);
  }

  if (!window.isSecureContext) {
    explain(
      "Ghi âm ngay trên trang chỉ dùng được khi trang mở bằng kết nối bảo mật HTTPS " +
      "(địa chỉ bắt đầu bằng https://). Trang này đang mở bằng HTTP thường (" + location.origin +
      ") nên trình duyệt không cho dùng micrô. Cách làm: nhờ quản trị viên bật HTTPS cho máy chủ xã " +
      "(tài liệu docs/operations.md, phần HTTPS), rồi mở trang bằng địa chỉ https://" +
      location.host + ". Trong lúc chờ, hãy ghi âm bằng ứng dụng ghi âm của điện thoại rồi chọn tệp ở ô " +
      "tệp ghi âm bên trên."
    );
    return;
  }
  if (!window.MediaRecorder || !navigator.mediaDevices || !window.DataTransfer) {
    explain(
      "Trình duyệt này không ghi âm được trên trang. Hãy ghi âm bằng ứng dụng ghi âm của điện thoại " +
      "rồi chọn tệp ở ô tệp ghi âm bên trên, hoặc mở trang bằng Chrome hay Firefox bản mới."
    );
    return;
  }
  var start = document.getElementById("record-start");
  var stop = document.getElementById("record-stop");
  var status = document.getElementById("record-status");
  var playback = document.getElementById("record-playback");
  var recorder = null;
  var chunks = [];
  box.hidden = false;

  function useRecording(blob) {
    var type = blob.type || "audio/webm";
    var ext = type.indexOf("ogg") >= 0 ? "ogg" : type.indexOf("mp4") >= 0 ? "m4a" : "webm";
    var file = new File([blob], "ghi-am." + ext, { type: type });
    var transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    var choice = document.querySelector('input[name="source"][value="recording"]');
    if (choice) { choice.checked = true; }
    playback.src = URL.createObjectURL(blob);
    playback.hidden = false;
    status.textContent = "Đã ghi xong (" + Math.round(blob.size / 1024) + " KB). Bản ghi sẽ được gửi kèm.";
  }

  start.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.addEventListener("dataavailable", function (event) { chunks.push(event.data); });
      recorder.addEventListener("stop", function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        useRecording(new Blob(chunks, { type: recorder.mimeType }));
      });
      recorder.start();
      start.disabled = true;
      stop.disabled = false;
      stop.focus();
      status.textContent = "Đang ghi âm…";
    }).catch(function () {
      status.textContent = "Không mở được micrô. Hãy cho phép trình duyệt dùng micrô, hoặc tải tệp lên.";
    });
  });

  stop.addEventListener("click", function () {
    if (recorder && recorder.state !== "inactive") { recorder.stop(); }
    start.disabled = false;
    stop.disabled = true;
    start.focus();
  });
})();
