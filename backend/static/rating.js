/* Rapport rating page, progressive enhancement: the form works without this file.
 * Adds sliders that have no answer until moved, submits once through the public JSON API
 * with one Idempotency-Key per page load, and keeps retrying (same key) if the network drops.
 * The answer is held in memory only and forgotten once the server has it. */
(function () {
  "use strict";

  var form = document.getElementById("rating-form");
  if (!form || !window.fetch || !window.JSON || !window.crypto) {
    return;
  }
  var words = form.dataset;
  var button = document.getElementById("submit");
  var statusBox = document.getElementById("status");
  var apiUrl = "/api/public/ratings/" + window.location.pathname.split("/").pop();
  var idempotencyKey = newKey();
  var items = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-key]"));
  var pending = null; // the JSON body being sent; null when nothing is waiting
  var inFlight = false;
  var attempt = 0;
  var timer = null;

  function newKey() {
    if (window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    // randomUUID needs a secure context; plain-http demos fall back to the same format.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map
      .call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); })
      .join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20),
      hex.slice(20)].join("-");
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : match;
    });
  }

  function control(item) {
    return item.querySelector("input, select");
  }

  function showError(item, text) {
    var message = document.getElementById(item.dataset.key + "-error");
    message.textContent = text;
    message.hidden = false;
    item.classList.add("has-error");
    Array.prototype.forEach.call(item.querySelectorAll("input, select"), function (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", item.dataset.key + "-error");
    });
  }

  function clearError(item) {
    var message = document.getElementById(item.dataset.key + "-error");
    message.textContent = "";
    message.hidden = true;
    item.classList.remove("has-error");
    Array.prototype.forEach.call(item.querySelectorAll("input, select"), function (input) {
      input.removeAttribute("aria-invalid");
    });
  }

  function makeSlider(item) {
    var select = item.querySelector("select");
    var key = item.dataset.key;
    var slider = document.createElement("input");
    slider.type = "range";
    slider.id = select.id;
    slider.min = item.dataset.min;
    slider.max = item.dataset.max;
    slider.step = item.dataset.step;
    slider.setAttribute("aria-labelledby", key + "-prompt");
    slider.setAttribute("aria-describedby", key + "-value " + key + "-anchors");
    var output = document.createElement("output");
    output.id = key + "-value";
    output.setAttribute("for", slider.id);
    output.className = "value";
    var wrapper = document.createElement("div");
    wrapper.className = "slider";
    wrapper.appendChild(output);
    wrapper.appendChild(slider);

    function show(touched) {
      item.dataset.touched = touched ? "yes" : "";
      output.classList.toggle("untouched", !touched);
      slider.classList.toggle("untouched", !touched);
      if (touched) {
        var shown = Number(slider.value).toFixed(1);
        output.textContent = shown;
        slider.setAttribute("aria-valuetext",
          fill(words.msgSliderValue, { value: shown, high: item.dataset.max }));
        clearError(item);
      } else {
        output.textContent = words.msgNotAnswered;
        slider.setAttribute("aria-valuetext", words.msgNotAnswered);
      }
    }

    var kept = select.value;
    select.parentNode.replaceChild(wrapper, select);
    if (kept !== "") {
      slider.value = kept;
      show(true);
    } else {
      slider.value = (Number(slider.min) + Number(slider.max)) / 2;
      show(false);
    }
    ["input", "change", "pointerdown"].forEach(function (type) {
      slider.addEventListener(type, function () { show(true); });
    });
  }

  items.forEach(function (item) {
    if (item.dataset.kind === "scale") {
      makeSlider(item);
    } else {
      item.addEventListener("change", function () { clearError(item); });
    }
  });

  function answerOf(item) {
    if (item.dataset.kind === "scale") {
      if (item.dataset.touched !== "yes") {
        return null;
      }
      var decimals = (item.dataset.step.split(".")[1] || "").length;
      return Number(Number(control(item).value).toFixed(decimals));
    }
    var chosen = item.querySelector("input:checked");
    return chosen ? Number(chosen.value) : null;
  }

  function finished() {
    pending = null;
    window.clearTimeout(timer);
    document.getElementById("rating").hidden = true;
    document.getElementById("thanks-talk").hidden = !form.elements.wants_to_talk.checked;
    var thanks = document.getElementById("thanks");
    thanks.hidden = false;
    window.scrollTo(0, 0);
    thanks.focus();
  }

  function refused(body) {
    pending = null;
    idempotencyKey = newKey(); // a corrected answer is a new request
    button.disabled = false;
    button.textContent = button.dataset.label;
    statusBox.textContent = "";
    var item = items.filter(function (each) { return each.dataset.key === body.item; })[0];
    if (item) {
      showError(item, words.msgInvalid);
      control(item).focus();
    } else {
      statusBox.textContent = words.msgInvalid;
    }
  }

  function closed(body) {
    pending = null;
    if (body.state === "used") {
      window.location.reload(); // the server's own page says it was already sent
      return;
    }
    // The link expired or was replaced while the client answered: the answers stay on
    // the page, and the page says plainly that they were not sent.
    button.textContent = button.dataset.label;
    statusBox.textContent = words.msgLinkClosed;
  }

  function retryLater(seconds) {
    attempt += 1;
    statusBox.textContent = words.msgNotSent;
    var backoff = Math.min(30000, 1000 * Math.pow(2, attempt - 1)) * (0.75 + Math.random() / 2);
    timer = window.setTimeout(send, seconds > 0 ? seconds * 1000 : backoff);
  }

  function send() {
    if (inFlight || pending === null) {
      return;
    }
    inFlight = true;
    window.clearTimeout(timer);
    window.fetch(apiUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
      body: pending,
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    }).then(function (response) {
      inFlight = false;
      if (response.ok) {
        finished();
      } else if ([404, 409, 410].indexOf(response.status) >= 0) {
        response.json().then(closed, function () { closed({}); });
      } else if (response.status === 422) {
        response.json().then(refused, function () { refused({}); });
      } else {
        retryLater(Number(response.headers.get("Retry-After")) || 0);
      }
    }, function () {
      inFlight = false;
      retryLater(0);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (pending !== null) {
      return; // a second tap while the first answer is on its way
    }
    var scores = {};
    var missing = [];
    items.forEach(function (item) {
      var value = answerOf(item);
      if (value === null) {
        missing.push(item);
      } else {
        clearError(item);
        scores[item.dataset.key] = value;
      }
    });
    if (missing.length) {
      missing.forEach(function (item) { showError(item, words.msgMissing); });
      control(missing[0]).focus();
      return;
    }
    var comment = form.elements.comment.value;
    pending = JSON.stringify({
      scores: scores,
      comment: comment.trim() ? comment : null,
      wants_to_talk: form.elements.wants_to_talk.checked
    });
    button.dataset.label = button.textContent;
    button.disabled = true;
    button.textContent = words.msgSending;
    attempt = 0;
    send();
  });

  window.addEventListener("online", function () {
    if (pending !== null && !inFlight) {
      send();
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (pending !== null) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}());
