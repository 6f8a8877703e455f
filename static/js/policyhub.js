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

/* A printed brief's footer says when it was printed: the reader's clock at print time, not the page's load time. */
(function () {
  "use strict";
  var stamp = document.querySelector("time.printed-on");
  if (!stamp) {
    return;
  }
  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }
  window.addEventListener("beforeprint", function () {
    var now = new Date();
    stamp.setAttribute("datetime", now.toISOString());
    stamp.textContent = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate()) + " " +
      pad(now.getHours()) + ":" + pad(now.getMinutes());
  });
})();
