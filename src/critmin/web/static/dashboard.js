// critmin dashboard: draws the charts the server embedded as JSON, and a few conveniences for forms.
// Everything is served by this server; nothing is fetched from elsewhere.
(function () {
  "use strict";

  var PLOT_CONFIG = {
    responsive: true,
    displaylogo: false,
    // Maps read the world outline shipped with critmin, not Plotly's CDN.
    topojsonURL: "/vendor/topojson/",
    modeBarButtonsToRemove: ["sendDataToCloud"]
  };

  function drawCharts() {
    var blocks = document.querySelectorAll("script[data-chart]");
    if (!blocks.length || typeof window.Plotly === "undefined") {
      return;
    }
    blocks.forEach(function (block) {
      var target = document.getElementById(block.getAttribute("data-chart"));
      if (!target) {
        return;
      }
      try {
        var figure = JSON.parse(block.textContent);
        window.Plotly.newPlot(target, figure.data, figure.layout, PLOT_CONFIG).then(function () {
          target.setAttribute("data-rendered", "true");
        }, function (err) {
          target.setAttribute("data-rendered", "error");
          target.textContent = "This chart could not be drawn: " + err;
        });
      } catch (err) {
        target.setAttribute("data-rendered", "error");
        target.textContent = "This chart could not be drawn: " + err;
      }
    });
  }

  // Empty fields are left out of the address, so "today" and "in force" stay the defaults.
  function tidySelection() {
    var form = document.getElementById("selection");
    if (!form) {
      return;
    }
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name && field.value === "") {
          field.disabled = true;
        }
      });
    });
    Array.prototype.forEach.call(form.querySelectorAll("select"), function (select) {
      select.addEventListener("change", function () {
        if (form.requestSubmit) {
          form.requestSubmit();
        } else {
          form.submit();
        }
      });
    });
  }

  // Say at once that a file is too large, rather than after uploading it (every form with a size limit).
  function guardUploads() {
    document.querySelectorAll("form[data-max-bytes]").forEach(function (form) {
      var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
      var problem = form.querySelector("[data-upload-problem]");
      form.addEventListener("submit", function (event) {
        var input = form.querySelector("input[type=file]");
        var file = input && input.files && input.files[0];
        if (file && limit && file.size > limit) {
          event.preventDefault();
          if (problem) {
            problem.hidden = false;
            problem.textContent = file.name + " is " + file.size.toLocaleString() + " bytes; the limit is " +
              limit.toLocaleString() + " bytes. " + (form.getAttribute("data-too-large") || "");
          }
          return;
        }
        var button = form.querySelector("button[type=submit]");
        if (button) {
          button.disabled = true;
          button.textContent = form.getAttribute("data-busy") || "Uploading…";
        }
      });
    });
  }

  // Forms that destroy something ask first; the question is in the form's data-confirm attribute.
  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  // A refused form comes back with its problems beside the fields: bring the first into view.
  function showProblems() {
    var first = document.querySelector("ul.problems");
    if (!first) {
      return;
    }
    first.scrollIntoView({ block: "center" });
    var field = document.querySelector("input[aria-invalid=true]");
    if (field) {
      field.focus({ preventScroll: true });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    showProblems();
    tidySelection();
    guardUploads();
    confirmForms();
  });
  // Plotly is loaded with `defer`, so it is ready once the document has loaded.
  window.addEventListener("load", drawCharts);
})();
