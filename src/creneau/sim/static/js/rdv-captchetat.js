/* SPDX-License-Identifier: AGPL-3.0-or-later
 * creneau simulator: the `rdv-captchetat` element of the /cgu/ page (booking-systems.md §1.3b). It asks the
 * captcha endpoint for its HTML with the page's bearer token, copies the captcha id into the hidden
 * `captchaId` input and shows the image through a blob: URL. A person reads and types the code.
 */
(function () {
  'use strict';

  function load(node) {
    var endpoint = node.getAttribute('endpoint-url');
    var style = node.getAttribute('captcha-style-name');
    var auth = { headers: { Authorization: 'Bearer ' + node.getAttribute('token') } };
    fetch(endpoint + '?get=html&c=' + encodeURIComponent(style), auth)
      .then(function (r) { return r.text(); })
      .then(function (markup) {
        var box = document.createElement('div');
        box.className = 'rdv-captchetat';
        box.innerHTML = markup;
        node.parentNode.replaceChild(box, node);
        var vcid = document.getElementById('BDC_VCID_' + style);
        var id = vcid ? vcid.value : '';
        var hidden = document.getElementById('captchaId');
        if (hidden) { hidden.value = id; }
        var query = '&c=' + encodeURIComponent(style) + '&t=' + encodeURIComponent(id);
        fetch(endpoint + '?get=image' + query, auth)
          .then(function (r) { return r.blob(); })
          .then(function (blob) {
            var img = document.getElementById(style + '_CaptchaImage');
            if (img) { img.src = URL.createObjectURL(blob); }
          });
        fetch(endpoint + '?get=script-include' + query + '&cs=203', auth);
      })
      .catch(function () {
        var p = document.createElement('p');
        p.className = 'fr-error-text';
        p.appendChild(document.createTextNode("Le code de sécurité n'a pas pu être chargé. Rechargez la page."));
        node.parentNode.insertBefore(p, node);
      });
  }

  document.addEventListener('DOMContentLoaded', function () {
    Array.prototype.slice.call(document.getElementsByTagName('rdv-captchetat')).forEach(load);
  });
})();
