// LTI platform storage over postMessage, for launches whose cookies the browser blocks.
// Specs (1EdTech, v0.1): "LTI Client Side postMessages" (lti-cs-pm), "LTI postMessage Storage"
// (lti-pm-s) and "LTI OIDC Login with LTI Client Side postMessages" (lti-cs-oidc).
// The page (lti/templates/lti/platform_storage.html) says what to do in #lti-storage's data-*.
(function () {
  "use strict";
  var el = document.getElementById("lti-storage");
  if (!el) { return; }
  var d = el.dataset;
  var host = window.parent !== window ? window.parent : window.opener;
  var waiting = {};
  var counter = 0;

  function newId() {
    counter += 1;
    var random = window.crypto && window.crypto.getRandomValues ?
      Array.prototype.map.call(window.crypto.getRandomValues(new Uint32Array(2)), function (n) { return n.toString(36); }).join("") :
      String(Math.random()).slice(2);
    return "lti-" + random + "-" + counter;
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.message_id !== "string") { return; }
    var w = waiting[data.message_id];
    // lti-cs-pm: a response has the request's subject + ".response" and its message_id.
    if (!w || data.subject !== w.subject + ".response" || event.source !== w.target) { return; }
    // lti-pm-s: storage answers count only from the platform's OIDC authorization origin.
    if (w.origin !== "*" && event.origin !== w.origin) { return; }
    delete waiting[data.message_id];
    clearTimeout(w.timer);
    if (data.error) { w.reject(new Error((data.error.code || "error") + ": " + (data.error.message || ""))); }
    else { w.resolve(data); }
  });

  function send(target, origin, message, timeoutMs) {
    return new Promise(function (resolve, reject) {
      if (!target) { reject(new Error("no window to talk to")); return; }
      var id = newId();
      message.message_id = id;
      waiting[id] = {subject: message.subject, target: target, origin: origin, resolve: resolve, reject: reject,
                     timer: setTimeout(function () { delete waiting[id]; reject(new Error("no answer to " + message.subject)); }, timeoutMs)};
      try { target.postMessage(message, origin); } catch (err) { delete waiting[id]; reject(err); }
    });
  }

  // lti-cs-pm: lti.capabilities goes to the parent with target origin "*" (the tool does not
  // know the LMS page's origin); a frame it names for lti.put_data wins over lti_storage_target.
  function storageFrame() {
    return send(host, "*", {subject: "lti.capabilities"}, 1000).then(function (caps) {
      var named = null;
      var supported = {};
      (caps.supported_messages || []).forEach(function (m) {
        supported[m.subject] = true;
        if (m.subject === "lti.put_data" && m.frame) { named = m.frame; }
      });
      if (!supported["lti.put_data"] || !supported["lti.get_data"]) { throw new Error("the LMS offers no storage"); }
      return named || d.target;
    }, function () { return d.target; }).then(function (name) {
      // lti-pm-s: "_parent" is the parent window itself, any other name a frame inside it.
      var frame = name === "_parent" ? host : (host && host.frames[name]);
      if (!frame) { throw new Error("the LMS has no frame named " + name); }
      return frame;
    });
  }

  function put(frame, key, value) {
    return send(frame, d.platformOrigin, {subject: "lti.put_data", key: key, value: value}, 3000);
  }

  function get(frame, key) {
    return send(frame, d.platformOrigin, {subject: "lti.get_data", key: key}, 3000).then(function (answer) {
      return typeof answer.value === "string" ? answer.value : "";
    });
  }

  function say(text) { document.getElementById("lti-storage-status").textContent = text; }

  if (d.mode === "login") {
    // lti-cs-oidc: store state and nonce, then go to the platform's authorization endpoint.
    // Should storage fail, go anyway: the cookie may still work, and the launch offers a new window.
    storageFrame().then(function (frame) {
      return Promise.all([put(frame, d.stateKey, d.stateValue), put(frame, d.nonceKey, d.nonceValue)]);
    }).catch(function (err) { say("Your LMS could not keep this login (" + err.message + ")."); })
      .then(function () { window.location.replace(d.authUrl); });
  } else if (d.mode === "launch") {
    // lti-cs-oidc: read them back; the server compares what was read with the login it recorded.
    var form = document.getElementById("lti-storage-launch");
    storageFrame().then(function (frame) {
      return Promise.all([get(frame, d.stateKey), get(frame, d.nonceKey)]);
    }).then(function (values) {
      form.elements.lti_storage_state.value = values[0];
      form.elements.lti_storage_nonce.value = values[1];
      form.elements.lti_storage_state.disabled = false;
      form.elements.lti_storage_nonce.disabled = false;
      form.elements.lti_storage_failed.disabled = true;
    }).catch(function (err) { say("Your LMS's storage did not answer (" + err.message + ")."); })
      .then(function () { form.submit(); });
  }
}());
