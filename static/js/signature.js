/* The signature box of the device agreement: draw with a finger, pen or mouse; the form
 * sends the drawing as a PNG (canvas.toDataURL) in its hidden field. Without a drawing the
 * field stays empty and the server asks for a signature. */
(function () {
  "use strict";

  document.querySelectorAll("canvas[data-signature-for]").forEach(function (canvas) {
    var field = document.getElementById(canvas.dataset.signatureFor);
    if (!field) return;
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.strokeStyle = "#000";

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: ((event.clientX - box.left) * canvas.width) / box.width,
        y: ((event.clientY - box.top) * canvas.height) / box.height
      };
    }

    canvas.style.touchAction = "none";
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var p = point(event);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      drawn = true;
    });
    function stop() {
      drawing = false;
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);

    document.querySelectorAll('[data-signature-clear="' + field.id + '"]').forEach(function (b) {
      b.addEventListener("click", function () {
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        drawn = false;
        field.value = "";
      });
    });

    if (field.form) {
      field.form.addEventListener("submit", function () {
        field.value = drawn ? canvas.toDataURL("image/png") : "";
      });
    }
  });
})();
