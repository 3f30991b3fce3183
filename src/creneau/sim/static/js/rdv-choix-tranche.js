/* SPDX-License-Identifier: AGPL-3.0-or-later
 * creneau simulator: renders the RDV Préfecture slot picker (`rdv-choix-tranche`) from the props the
 * server embeds in `VertigoUi.vueData`, producing the DOM booking-systems.md §1.3b describes, so that a
 * page opened in a browser shows what a person sees. Vanilla JS, no framework, no network.
 */
(function () {
  'use strict';

  var WEEKDAYS = ['dimanche', 'lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi'];
  var PHONE_WIDTH = 576;

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function parseDate(s) { var p = s.split('/'); return new Date(Date.UTC(+p[2], +p[1] - 1, +p[0])); }
  function fmtDate(d) { return pad(d.getUTCDate()) + '/' + pad(d.getUTCMonth() + 1) + '/' + d.getUTCFullYear(); }
  function addDays(d, n) { return new Date(d.getTime() + n * 86400000); }
  function hhmm(minutes) { return pad(Math.floor(minutes / 60)) + 'h' + pad(minutes % 60); }
  function atText(instant) { var p = instant.split(' '); return p[0] + ' à ' + p[1]; }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.appendChild(document.createTextNode(text)); }
    return node;
  }

  function button(cls, text, onClick, disabled) {
    var b = el('button', cls, text);
    b.type = 'button';
    if (disabled) { b.disabled = true; } else { b.addEventListener('click', onClick); }
    return b;
  }

  function goToWeek(day) {
    var url = new URL(window.location.href);
    url.searchParams.set('premierJour', day);
    window.location.href = url.toString();
  }

  function days(d) {
    var first = parseDate(d.premierJour);
    var list = [];
    for (var i = 0; i < d.nombreDeJour; i++) {
      var day = addDays(first, i);
      list.push({ date: fmtDate(day), label: WEEKDAYS[day.getUTCDay()] + ' ' + fmtDate(day).slice(0, 5), tranches: [] });
    }
    d.tranches.forEach(function (t) {
      list.forEach(function (day) { if (day.date === t.dateLocale) { day.tranches.push(t); } });
    });
    list.forEach(function (day) { day.tranches.sort(function (a, b) { return a.minutesDebut - b.minutesDebut; }); });
    return list;
  }

  function slotItem(t, index) {
    var li = el('li', 'row cellule justify-center radio-card' + (index % 2 === 1 ? ' even' : ''));
    var input = el('input', 'fr-radio');
    input.type = 'radio';
    input.name = 'trhId';
    input.id = 'trhId_' + t.trhId;
    input.value = String(t.trhId);
    input.setAttribute('data-value', String(t.trhId));
    input.addEventListener('change', function () {
      var next = document.getElementById('boutonCreneauSuivant');
      if (next) { next.disabled = false; }
    });
    var label = el('label', 'fr-label', hhmm(t.minutesDebut));
    label.htmlFor = input.id;
    li.appendChild(input);
    li.appendChild(label);
    return li;
  }

  function slotList(day, rows) {
    var ul = el('ul', 'liste-cellules');
    day.tranches.slice(0, rows).forEach(function (t, i) { ul.appendChild(slotItem(t, i)); });
    return ul;
  }

  function notice(box, first, week) {
    var p = el('p', 'notice-publication fr-mb-1w');
    p.appendChild(el('span', 'fr-text--italic', first));
    p.appendChild(document.createElement('br'));
    p.appendChild(el('span', 'fr-text--italic', 'pour des créneaux de la semaine du ' + week));
    box.appendChild(p);
  }

  function notices(box, d) {
    var wrap = el('div', 'notices-publication fr-mt-3w');
    if (d.prochainePub) {
      notice(wrap, 'Prochaine mise en ligne de nouveaux rendez-vous : le ' + atText(d.prochainePub.instantPublication), d.prochainePub.dateMin);
    }
    if (d.precedentePub) {
      notice(wrap, 'Dernière mise en ligne de rendez-vous : le ' + atText(d.precedentePub.instantPublication), d.precedentePub.dateMin);
    }
    if (wrap.childNodes.length) { box.appendChild(wrap); }
  }

  function weekNavigation(d) {
    var nav = el('div', 'row items-center justify-between navigation-semaine fr-mb-2w');
    var first = parseDate(d.premierJour);
    nav.appendChild(button('q-btn fr-btn fr-btn--tertiary fr-btn--sm fr-icon-arrow-left-s-line fr-btn--icon-left', 'Semaine précédente',
      function () { goToWeek(fmtDate(addDays(first, -7))); }, d.isCurrentMinWeek));
    nav.appendChild(el('p', 'fr-text--bold fr-mb-0 libelle-semaine', 'Semaine du ' + d.premierJour));
    nav.appendChild(button('q-btn fr-btn fr-btn--tertiary fr-btn--sm fr-icon-arrow-right-s-line fr-btn--icon-right', 'Semaine suivante',
      function () { goToWeek(fmtDate(addDays(first, 7))); }, d.isCurrentMaxWeek));
    return nav;
  }

  function calendar(d, showAll, rerender) {
    var list = days(d);
    var rows = showAll ? 1000 : d.nombreDeLigne;
    var more = list.some(function (day) { return day.tranches.length > d.nombreDeLigne; });
    var wrap = el('div', 'calendrier-wrapper');
    if (window.innerWidth < PHONE_WIDTH) {
      var items = el('div', 'q-list expansion-jours');
      list.forEach(function (day) {
        var details = el('details', 'q-expansion-item');
        details.appendChild(el('summary', 'q-item q-expansion-item__header', day.label));
        if (day.tranches.length) { details.appendChild(slotList(day, rows)); } else { details.appendChild(el('p', 'fr-text--sm', 'Aucun créneau disponible')); }
        items.appendChild(details);
      });
      wrap.appendChild(items);
    } else {
      var grid = el('div', 'row no-wrap justify-between calendrier');
      list.forEach(function (day) {
        var col = el('div', 'col colonne-jour');
        col.appendChild(el('h3', 'celulleHeader', day.label));
        col.appendChild(slotList(day, rows));
        grid.appendChild(col);
      });
      wrap.appendChild(grid);
    }
    if (more && !showAll) {
      var line = el('div', 'row justify-center fr-mt-2w');
      line.appendChild(button('q-btn fr-btn fr-btn--secondary', 'Voir plus de créneaux', rerender, false));
      wrap.appendChild(line);
    }
    return wrap;
  }

  function render(d, showAll) {
    var box = el('div', 'rdv-choix-tranche q-pa-md');
    box.id = 'choixTranche';
    if (!d.isDisplayCalendar) {
      box.appendChild(el('p', 'fr-text--lg fr-mb-2w', 'Veuillez réessayer ultérieurement.'));
      notices(box, d);
      return box;
    }
    var hasSlots = d.tranches.length > 0;
    if (hasSlots) { box.appendChild(el('h2', 'fr-h4', 'Choisissez votre créneau')); }
    box.appendChild(weekNavigation(d));
    if (hasSlots) {
      box.appendChild(calendar(d, showAll, function () {
        var fresh = render(d, true);
        box.parentNode.replaceChild(fresh, box);
      }));
    } else if (d.premiereDispo) {
      box.appendChild(el('p', 'fr-text--lg aucun-creneau', 'Aucun créneau disponible sur cette semaine'));
      box.appendChild(button('q-btn fr-btn', 'Prochaine disponibilité le ' + d.premiereDispo,
        function () { goToWeek(d.premiereDispo); }, false));
    } else {
      var p = el('p', 'fr-text--lg aucun-creneau', 'Aucun créneau disponible à partir de cette date.');
      p.appendChild(document.createElement('br'));
      p.appendChild(document.createTextNode('Veuillez réessayer ultérieurement.'));
      box.appendChild(p);
    }
    if (d.isCurrentMaxWeek) { notices(box, d); }
    return box;
  }

  function mount() {
    var data = window.VertigoUi && window.VertigoUi.vueData;
    if (!data) { return; }
    var nodes = Array.prototype.slice.call(document.getElementsByTagName('rdv-choix-tranche'));
    nodes.forEach(function (node) { node.parentNode.replaceChild(render(data, false), node); });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', mount);
  } else {
    mount();
  }
})();
