/*
 * Upload progress for forms marked data-upload-progress.
 *
 * htmx 4 sends its requests with fetch(), and fetch reports no upload progress. For these
 * forms only, this hands htmx an XMLHttpRequest-based fetch that moves the <progress> bar;
 * htmx still does everything else (headers, redirects, swapping the answer, errors).
 * Files over the configured limits are refused before a byte is sent. Without JavaScript
 * (or without this file) the form is a plain multipart form and works the same.
 */
(function () {
  "use strict";

  var NULL_BODY = [101, 204, 205, 304];

  function part(form, selector) {
    return form.querySelector(selector);
  }

  function say(form, text) {
    var error = part(form, "[data-upload-error]");
    if (!error) return;
    error.textContent = text || "";
    error.hidden = !text;
  }

  function show(form, loaded, total) {
    var bar = part(form, "[data-upload-progress-bar] progress");
    var status = part(form, "[data-upload-status]");
    var percent = total ? Math.floor((loaded / total) * 100) : 0;
    if (bar) bar.value = percent;
    if (status) status.textContent = percent + "%";
  }

  function tooLarge(form) {
    var fileLimit = Number(form.dataset.fileLimit || 0);
    var requestLimit = Number(form.dataset.requestLimit || 0);
    var total = 0;
    var inputs = form.querySelectorAll("input[type=file]");
    for (var i = 0; i < inputs.length; i++) {
      var chosen = inputs[i].files || [];
      for (var j = 0; j < chosen.length; j++) {
        total += chosen[j].size;
        if (fileLimit && chosen[j].size > fileLimit) {
          return (form.dataset.fileMessage || "").replace("{name}", chosen[j].name);
        }
      }
    }
    if (requestLimit && total > requestLimit) return form.dataset.requestMessage || "";
    return null;
  }

  function headersOf(xhr) {
    var headers = new Headers();
    xhr.getAllResponseHeaders().trim().split(/[\r\n]+/).forEach(function (line) {
      var colon = line.indexOf(":");
      if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    });
    return headers;
  }

  function fetchWithProgress(form) {
    return function (url, init) {
      return new Promise(function (resolve, reject) {
        var xhr = new XMLHttpRequest();
        xhr.open(init.method || "POST", url);
        var headers = init.headers || {};
        Object.keys(headers).forEach(function (name) {
          xhr.setRequestHeader(name, headers[name]);
        });
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) show(form, event.loaded, event.total);
        });
        xhr.upload.addEventListener("load", function () {
          show(form, 1, 1);
          var status = part(form, "[data-upload-status]");
          if (status) status.textContent = form.dataset.checkingMessage || "";
        });
        xhr.addEventListener("load", function () {
          var empty = NULL_BODY.indexOf(xhr.status) !== -1;
          resolve(new Response(empty ? null : xhr.responseText, {
            status: xhr.status, statusText: xhr.statusText, headers: headersOf(xhr)
          }));
        });
        xhr.addEventListener("error", function () {
          reject(new TypeError("the upload broke off"));
        });
        xhr.addEventListener("abort", function () {
          reject(new DOMException("the upload was stopped", "AbortError"));
        });
        if (init.signal) {
          if (init.signal.aborted) {
            reject(new DOMException("the upload was stopped", "AbortError"));
            return;
          }
          init.signal.addEventListener("abort", function () { xhr.abort(); });
        }
        xhr.send(init.body);
      });
    };
  }

  function uploadForm(event) {
    var ctx = event.detail && event.detail.ctx;
    var form = ctx && ctx.sourceElement && ctx.sourceElement.closest("form[data-upload-progress]");
    return form ? { ctx: ctx, form: form } : null;
  }

  document.addEventListener("htmx:config:request", function (event) {
    var found = uploadForm(event);
    if (!found) return;
    var problem = tooLarge(found.form);
    if (problem) {
      event.preventDefault();  // nothing is sent: the server would refuse it anyway
      say(found.form, problem);
      return;
    }
    say(found.form, "");
    show(found.form, 0, 1);
    found.ctx.request.timeout = 0;  // a large file may take long; the user can leave
    found.ctx.fetch = fetchWithProgress(found.form);
  });

  document.addEventListener("htmx:error", function (event) {
    var found = uploadForm(event);
    if (found && found.form.isConnected) say(found.form, found.form.dataset.failedMessage);
  });
})();
