/* The count of characters under a message's text area, as the person types.
 *
 * A text area names its counter: <textarea data-compteur="ID">. The counter, hidden
 * until this script runs (without it, the label says the limit), carries the limit and
 * its sentences, translated by the page: data-max, data-texte ("{count} / {max} …")
 * and data-trop ("… {over} …"). Characters are counted as the server counts them: line
 * ends as one, blanks around the text left out. The server still checks the limit.
 * Screen readers hear the count once the person stops typing, not at every key.
 */
(function () {
  "use strict";

  var format = new Intl.NumberFormat(document.documentElement.lang || "fr");

  function length(text) {
    return Array.from(text.replace(/\r\n?/g, "\n").trim()).length;
  }

  function fill(sentence, values) {
    return sentence.replace(/\{(\w+)\}/g, function (whole, key) {
      return key in values ? values[key] : whole;
    });
  }

  function attach(area) {
    var counter = document.getElementById(area.getAttribute("data-compteur"));
    if (!counter) {
      return;
    }
    var max = parseInt(counter.getAttribute("data-max"), 10);
    var spoken = document.createElement("p");
    spoken.className = "fr-sr-only";
    spoken.setAttribute("aria-live", "polite");
    counter.parentNode.insertBefore(spoken, counter.nextSibling);
    var described = (area.getAttribute("aria-describedby") || "").split(" ");
    if (described.indexOf(counter.id) === -1) {
      described.push(counter.id);
      area.setAttribute("aria-describedby", described.join(" ").trim());
    }
    var timer = null;

    function update(speak) {
      var count = length(area.value);
      var over = count - max;
      var sentence = fill(
        counter.getAttribute(over > 0 ? "data-trop" : "data-texte"),
        { count: format.format(count), max: format.format(max), over: format.format(over) }
      );
      counter.textContent = sentence;
      counter.classList.toggle("fr-error-text", over > 0);
      counter.classList.toggle("fr-hint-text", over <= 0);
      area.classList.toggle("fr-input--error", over > 0);
      if (speak) {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          spoken.textContent = sentence;
        }, 1000);
      }
    }

    counter.hidden = false;
    update(false);
    area.addEventListener("input", function () {
      update(true);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-compteur]"), attach);
})();
