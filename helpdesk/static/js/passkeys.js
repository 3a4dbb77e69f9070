// Passkeys (WebAuthn): the browser side of adding a passkey and signing in with one.
// A button with data-passkey="add" or "sign-in" names the URL that gives the options
// (data-options) and the one that checks the answer (data-finish); the server says where to go next.
(function () {
  "use strict";

  function bytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    return Uint8Array.from(atob(base64), function (ch) { return ch.charCodeAt(0); });
  }

  function text(buffer) {
    var binary = "";
    new Uint8Array(buffer).forEach(function (b) { binary += String.fromCharCode(b); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function send(url, body) {
    var token = document.querySelector('meta[name="csrf-token"]').content;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var refusal = new Error(data.error || "");
          refusal.fromServer = true;
          throw refusal;
        }
        return data;
      });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (item) { return Object.assign({}, item, { id: bytes(item.id) }); });
  }

  function add(button) {
    return send(button.dataset.options).then(function (options) {
      options.challenge = bytes(options.challenge);
      options.user.id = bytes(options.user.id);
      options.excludeCredentials = descriptors(options.excludeCredentials);
      return navigator.credentials.create({ publicKey: options });
    }).then(function (credential) {
      var answer = credential.response;
      var nameField = document.getElementById(button.dataset.nameField || "");
      return send(button.dataset.finish, {
        name: nameField ? nameField.value : "",
        credential: {
          id: credential.id,
          rawId: text(credential.rawId),
          type: credential.type,
          response: {
            clientDataJSON: text(answer.clientDataJSON),
            attestationObject: text(answer.attestationObject),
            transports: answer.getTransports ? answer.getTransports() : [],
          },
          clientExtensionResults: credential.getClientExtensionResults(),
        },
      });
    });
  }

  function signIn(button) {
    return send(button.dataset.options).then(function (options) {
      options.challenge = bytes(options.challenge);
      options.allowCredentials = descriptors(options.allowCredentials);
      return navigator.credentials.get({ publicKey: options });
    }).then(function (credential) {
      var answer = credential.response;
      return send(button.dataset.finish, {
        credential: {
          id: credential.id,
          rawId: text(credential.rawId),
          type: credential.type,
          response: {
            clientDataJSON: text(answer.clientDataJSON),
            authenticatorData: text(answer.authenticatorData),
            signature: text(answer.signature),
            userHandle: answer.userHandle ? text(answer.userHandle) : null,
          },
          clientExtensionResults: credential.getClientExtensionResults(),
        },
      });
    });
  }

  // The buttons come disabled, so that a click before this script ran is not lost in silence.
  document.querySelectorAll("[data-passkey]").forEach(function (button) { button.disabled = false; });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-passkey]");
    if (!button) return;
    event.preventDefault();
    var status = document.getElementById(button.dataset.status || "");
    if (!window.PublicKeyCredential) {
      if (status) status.textContent = button.dataset.unsupported || "";
      return;
    }
    button.disabled = true;
    (button.dataset.passkey === "add" ? add(button) : signIn(button)).then(function (result) {
      window.location.assign(result.next);
    }).catch(function (error) {
      button.disabled = false;
      // Our server's reasons are translated; the browser's (a cancelled prompt) are not shown.
      var reason = error && error.fromServer && error.message;
      if (status) status.textContent = reason || button.dataset.failed || "";
    });
  });
})();
