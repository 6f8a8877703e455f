/* PolicyHub pages: progressive enhancement only; every page works without this file.
   - On narrow screens the header's menu folds behind a "Menu" button (CSS hides it only under .js).
   - On narrow screens a list's filter panel starts folded, so results come first; it stays open
     when the filters hold an error the reader must see. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var toggle = document.querySelector(".nav-toggle");
  var header = document.querySelector(".site-header");
  if (toggle && header) {
    toggle.addEventListener("click", function () {
      var open = header.classList.toggle("menu-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  var panel = document.querySelector("details.filter-panel");
  if (panel && !panel.hasAttribute("data-keep-open") && window.matchMedia("(max-width: 900px)").matches) {
    panel.open = false;
  }
})();

/* A printed brief repeats its header (code and title) and footer facts (page URL, publication date,
   "printed on") on every page: they go into the page's margin boxes through a constructed style sheet
   (CSP allows no inline style). The footer's time is the reader's clock at print time, not the page's
   load time. Without this script, the header and footer print once, at the top and the end. */
(function () {
  "use strict";
  var header = document.querySelector(".print-header");
  var facts = document.querySelector(".print-footer-facts");
  var stamp = document.querySelector("time.printed-on");
  if (!header || !facts || !stamp) {
    return;
  }
  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }
  function cssString(text) {
    return '"' + text.replace(/\s+/g, " ").trim().replace(/[\\"]/g, "\\$&") + '"';
  }
  var sheet = null;
  if ("adoptedStyleSheets" in document && typeof CSSStyleSheet === "function") {
    try {
      sheet = new CSSStyleSheet();
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    } catch (error) {
      sheet = null;
    }
  }
  function render() {
    if (sheet) {
      sheet.replaceSync(
        "@page { @top-left { content: " + cssString(header.textContent) + "; } " +
          "@bottom-left { content: " + cssString(facts.textContent) + "; } }"
      );
      document.documentElement.classList.add("print-margins");
    }
  }
  render();
  window.addEventListener("beforeprint", function () {
    var now = new Date();
    stamp.setAttribute("datetime", now.toISOString());
    stamp.textContent = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate()) + " " +
      pad(now.getHours()) + ":" + pad(now.getMinutes());
    render();
  });
})();
