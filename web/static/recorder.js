// Record a bulletin in the browser (MediaRecorder) and hand the recording to the form's file input,
// so it is sent like an uploaded file. Without MediaRecorder (old phones) the recorder stays hidden.
(function () {
  "use strict";
  var box = document.querySelector(".recorder");
  var input = document.getElementById("audio");
  if (!box || !input || !window.MediaRecorder || !navigator.mediaDevices || !window.DataTransfer) {
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
