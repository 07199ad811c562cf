// Progressive enhancements for the back office. Every page works without this file; it only adds the small
// menu toggle, confirmation prompts and "go back" links. No third-party code.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("main-nav");
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        var open = nav.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }

    // <form data-confirm="Archive this piece?"> asks before submitting.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });

    // Buttons are disabled while their form submits, so a double click cannot send it twice.
    document.querySelectorAll("form[method='post']").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (event.defaultPrevented) { return; }
        form.querySelectorAll("button[type='submit']").forEach(function (button) {
          window.setTimeout(function () { button.disabled = true; }, 0);
        });
      });
    });

    document.querySelectorAll("[data-back]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (window.history.length > 1) {
          event.preventDefault();
          window.history.back();
        }
      });
    });

    // Copy buttons for secrets shown once.
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy"));
        if (target && navigator.clipboard) {
          navigator.clipboard.writeText(target.textContent.trim()).then(function () {
            button.textContent = "Copied";
          });
        }
      });
    });
  });
})();
