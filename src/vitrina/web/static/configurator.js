// The configurator: every change of metal, stones or engraving is sent over the configurator WebSocket
// (WJ's method 1001) and the reply's price, breakdown and composed image are shown. The server validates and
// prices; this script only reads the controls, sends them and displays the answer. Without JavaScript the
// form's "Price it" button asks the server for the same answer as a page.
(function () {
  "use strict";

  var root = document.querySelector("[data-configurator]");
  if (!root || !window.WebSocket) { return; }

  var form = root.querySelector("form[data-config-form]");
  var price = root.querySelector("[data-price]");
  var breakdown = root.querySelector("[data-breakdown]");
  var image = root.querySelector("[data-image]");
  var state = root.querySelector("[data-live-state]");
  var ciOut = root.querySelector("[data-ci]");
  var errorBox = root.querySelector("[data-error]");
  var orderConfig = document.querySelector("[data-order-configuration]");
  var vendorModel = root.getAttribute("data-vendor-model");
  var imageBase = root.getAttribute("data-image-base");
  var socketPath = root.getAttribute("data-socket");
  var socket = null;
  var retry = 0;
  var timer = null;
  var lastSent = null;

  function setState(text) { if (state) { state.textContent = text; } }

  function controls(part) {
    return form.querySelectorAll("[data-part='" + part + "']");
  }

  function readConfiguration() {
    var configuration = {};
    var parts = {};
    form.querySelectorAll("[data-part]").forEach(function (el) { parts[el.getAttribute("data-part")] = true; });
    Object.keys(parts).forEach(function (part) {
      var spec = {};
      var stones = [];
      var count = null;
      controls(part).forEach(function (el) {
        var field = el.getAttribute("data-field");
        var value = el.value;
        if (el.disabled) { return; }
        if (field === "metal" && value) {
          var metal = value.split("|");
          spec.metal = { sku: metal[0], color: metal[1] || undefined };
        } else if (field === "stones") {
          count = parseInt(value, 10) || 0;
          spec.stones = count;
        } else if (field === "stone" && value) {
          var stone = value.split("|");
          stones.push({ sku: stone[0], shape: stone[1] || undefined, weight: stone[2] || undefined,
                        position: parseInt(el.getAttribute("data-position"), 10) });
        } else if (field === "group") {
          var group = el.getAttribute("data-group");
          spec[group] = spec[group] || {};
          spec[group][el.getAttribute("data-attr")] = value;
        } else if (field === "text" || field === "font") {
          var slot = el.getAttribute("data-slot") || "e0";
          spec[slot] = spec[slot] || {};
          if (value) { spec[slot][field] = value; }
        } else if (value !== "") {
          spec[field] = /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
        }
      });
      if (count !== null) {
        stones = stones.filter(function (s) { return s.position <= count; });
      }
      if (stones.length) { spec.stone = stones; }
      if (part === "engraving") {
        Object.keys(spec).forEach(function (slot) { if (!spec[slot].text) { delete spec[slot]; } });
      }
      if (Object.keys(spec).length) { configuration[part] = spec; }
    });
    return configuration;
  }

  function showStonePositions() {
    form.querySelectorAll("[data-field='stones']").forEach(function (select) {
      var count = parseInt(select.value, 10) || 0;
      controls(select.getAttribute("data-part")).forEach(function (el) {
        if (el.getAttribute("data-field") !== "stone") { return; }
        var hidden = parseInt(el.getAttribute("data-position"), 10) > count;
        el.disabled = hidden;
        var field = el.closest(".field");
        if (field) { field.hidden = hidden; }
      });
    });
  }

  // A choice group's picks belong to one entry: only the chosen entry's controls are shown and sent.
  function showGroupChoices() {
    form.querySelectorAll("[data-field='group'][data-attr='sku']").forEach(function (select) {
      var part = select.getAttribute("data-part");
      var group = select.getAttribute("data-group");
      controls(part).forEach(function (el) {
        if (el.getAttribute("data-group") !== group || !el.hasAttribute("data-for-sku")) { return; }
        var hidden = el.getAttribute("data-for-sku") !== select.value;
        el.disabled = hidden;
        var field = el.closest(".field");
        if (field) { field.hidden = hidden; }
      });
    });
  }

  function formatMoney(amount, currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency }).format(Number(amount));
    } catch (e) {
      return amount + " " + currency;
    }
  }

  function renderBreakdown(value, currency) {
    breakdown.textContent = "";
    var rows = [];
    (function walk(node, label) {
      if (node === null || node === undefined) { return; }
      if (Array.isArray(node)) {
        node.forEach(function (entry, i) { walk(entry, label ? label + " " + (i + 1) : String(i + 1)); });
      } else if (typeof node === "object") {
        var amount = node.amount !== undefined ? node.amount : (node.total !== undefined ? node.total : node.cost);
        var name = node.label || node.name || node.term || node.title ||
          (node.part ? node.part + (node.item ? " " + node.item : "") : label);
        if (amount !== undefined && typeof amount !== "object") {
          rows.push([name, amount]);
        } else {
          // "markup" is a multiplier, not an amount of money: the retail line already includes it.
          Object.keys(node).forEach(function (key) {
            if (key !== "markup") { walk(node[key], label ? label + " · " + key : key); }
          });
        }
      } else if (!isNaN(Number(node))) {
        rows.push([label, node]);
      }
    })(value, "");
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = String(row[0]).replace(/_/g, " ");
      var td = document.createElement("td");
      td.className = "num";
      td.textContent = formatMoney(row[1], currency);
      tr.appendChild(th);
      tr.appendChild(td);
      breakdown.appendChild(tr);
    });
  }

  function render(reply) {
    if (reply.status !== "success") {
      errorBox.hidden = false;
      errorBox.textContent = typeof reply.message === "string" ? reply.message
        : (reply.error_message || "This combination is not available (error " + reply.error + ").");
      return;
    }
    var result = reply.message;
    errorBox.hidden = true;
    price.textContent = formatMoney(result.retail, result.currency);
    price.setAttribute("data-amount", result.retail);
    if (ciOut) { ciOut.textContent = result.ci; }
    renderBreakdown(result.breakdown, result.currency);
    if (image && imageBase) {
      image.src = imageBase.replace("__CI__", encodeURIComponent(result.ci));
      image.alt = result.title ? "Preview of " + result.title : "Preview";
    }
    if (orderConfig) { orderConfig.value = JSON.stringify(readConfiguration()); }
  }

  function send() {
    var message = JSON.stringify({ method_id: 1001, vendor_model: vendorModel, configuration: readConfiguration() });
    if (message === lastSent && socket && socket.readyState === 1) { return; }
    if (socket && socket.readyState === 1) {
      lastSent = message;
      setState("Pricing…");
      socket.send(message);
    }
  }

  function schedule() {
    showStonePositions();
    showGroupChoices();
    if (orderConfig) { orderConfig.value = JSON.stringify(readConfiguration()); }
    window.clearTimeout(timer);
    timer = window.setTimeout(send, 120);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + socketPath);
    socket.onopen = function () { retry = 0; lastSent = null; setState("Live prices"); send(); };
    socket.onmessage = function (event) {
      var text = event.data;
      var reply;
      try { reply = JSON.parse(text); } catch (e) { reply = JSON.parse(window.atob(text)); }
      setState("Live prices");
      render(reply);
    };
    socket.onclose = function () {
      setState("Reconnecting…");
      retry = Math.min(retry + 1, 6);
      window.setTimeout(connect, 250 * Math.pow(2, retry));
    };
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  showStonePositions();
  showGroupChoices();
  root.classList.add("live");
  connect();
})();
