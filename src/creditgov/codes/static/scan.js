// The credit code verification page's QR reader: a code's picture in, its text out.
// Two ways in: a photo chosen from the device (drawn to a canvas and decoded) and the
// camera (frames decoded until a code is found, then the camera stops). The browser's
// own BarcodeDetector reads the symbol where it has one; elsewhere the vendored jsQR
// (/static/vendor/jsQR-1.4.0.js) does. The text found fills the paste field and submits
// the form, which verify.js checks offline. Nothing leaves the browser. The messages
// are in the page (data-* attributes of #scan, from the codes domain's catalogue), so
// they are in the reader's language. Without JavaScript the section stays hidden and
// pasting works as before.
"use strict";
(function () {
  // A photo is tried scaled down first (fast, and enough when the code fills it), then
  // larger, then at its own size (up to 4096 pixels): a small code in a large photo
  // whose modules fall across pixels at 2048 reads at full size (jsQR, 3000 pixels:
  // a fifth of a second here).
  const PHOTO_SIDES = [1024, 2048, 4096];
  const FRAME_SIDE = 960;  // camera frames are decoded at most this large
  const FRAME_GAP_MS = 120;

  let box, state, form, field, video, cameraButton, stopButton;
  let detector = null;  // a native BarcodeDetector when the browser has one for QR
  let stream = null;  // the camera while it is on
  let scanning = 0;  // bumped to end a camera loop

  function say(key, status) {
    state.textContent = box.dataset[key] || "";
    state.dataset.status = status || key;
  }

  async function nativeDetector() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    } catch (e) {
      return null;
    }
  }

  // The text of the first QR symbol on the canvas, or null.
  async function decode(canvas, ctx, thorough) {
    if (detector) {
      try {
        const found = await detector.detect(canvas);
        if (found.length && found[0].rawValue) return found[0].rawValue;
        if (!thorough) return null;  // camera frames: the next frame is the second try
      } catch (e) {
        // fall through to jsQR
      }
    }
    if (typeof window.jsQR !== "function") return null;
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const out = window.jsQR(img.data, img.width, img.height,
      { inversionAttempts: thorough ? "attemptBoth" : "dontInvert" });
    return out && out.data ? out.data : null;
  }

  function draw(source, width, height, side, canvas) {
    const scale = Math.min(1, side / Math.max(width, height));
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.imageSmoothingEnabled = scale < 1;
    ctx.fillStyle = "#fff";  // a transparent PNG reads as white paper, not black
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
    return ctx;
  }

  function found(text) {
    say("found");
    field.value = text;
    form.requestSubmit();
  }

  async function readPhoto(file) {
    stopCamera(false);
    say("busy");
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (e) {
      say("unreadable");
      return;
    }
    try {
      const canvas = document.createElement("canvas");
      const longest = Math.max(bitmap.width, bitmap.height);
      for (const side of PHOTO_SIDES) {
        const text = await decode(canvas, draw(bitmap, bitmap.width, bitmap.height, side, canvas), true);
        if (text) { found(text); return; }
        if (side >= longest) break;
      }
      say("none");
    } finally {
      bitmap.close();
    }
  }

  function stopCamera(tell) {
    scanning += 1;
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.pause();
    video.srcObject = null;
    video.hidden = true;
    stopButton.hidden = true;
    cameraButton.hidden = false;
    box.dataset.camera = "off";
    if (tell) say("stopped");
  }

  async function startCamera() {
    stopCamera(false);
    const run = scanning;
    try {
      const s = await navigator.mediaDevices.getUserMedia(
        { audio: false, video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 } } });
      if (run !== scanning) { for (const t of s.getTracks()) t.stop(); return; }
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      cameraButton.hidden = true;
      stopButton.hidden = false;
      box.dataset.camera = "on";
      await video.play();
    } catch (e) {
      const name = e && e.name;
      stopCamera(false);
      say(name === "NotAllowedError" || name === "SecurityError" ? "denied"
        : name === "NotFoundError" || name === "OverconstrainedError" ? "nocamera" : "camerafailed");
      return;
    }
    say("looking");
    const canvas = document.createElement("canvas");
    while (run === scanning) {
      if (video.readyState >= 2 && video.videoWidth) {
        const ctx = draw(video, video.videoWidth, video.videoHeight, FRAME_SIDE, canvas);
        const text = await decode(canvas, ctx, false);
        if (run !== scanning) return;
        if (text) { stopCamera(false); found(text); return; }
      }
      await new Promise((resolve) => setTimeout(resolve, FRAME_GAP_MS));
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    box = document.getElementById("scan");
    form = document.getElementById("verify-form");
    field = document.getElementById("code-text");
    if (!box || !form || !field || !("createImageBitmap" in window)) return;
    state = document.getElementById("scan-state");
    video = document.getElementById("scan-video");
    cameraButton = document.getElementById("scan-camera");
    stopButton = document.getElementById("scan-stop");
    detector = await nativeDetector();
    if (!detector && typeof window.jsQR !== "function") return;  // no decoder: paste only
    box.dataset.decoder = detector ? "native" : "jsqr";
    box.dataset.camera = "off";
    const input = document.getElementById("scan-file");
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      input.value = "";  // the same photo chosen again reads again
      if (file) readPhoto(file);
    });
    // The camera needs a secure context (HTTPS, or this machine itself).
    cameraButton.hidden = !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
    cameraButton.addEventListener("click", startCamera);
    stopButton.addEventListener("click", () => stopCamera(true));
    window.addEventListener("pagehide", () => stopCamera(false));
    box.hidden = false;
    box.dataset.ready = "1";
  });
})();
