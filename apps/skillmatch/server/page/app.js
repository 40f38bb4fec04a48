// skillmatch's editor page: vanilla JS against the HTTP API of `skillmatch serve`
// (docs/http-api.md). No dependencies, no build step.
'use strict';
(() => {
  const I18N = {
    de: {
      docTitle: 'skillmatch · Kurs-Editor',
      title: 'Kurs-Editor',
      otherLang: 'English',
      inputHeading: 'Kurstext',
      inputKind: 'Eingabe',
      kindText: 'Freitext',
      kindOutcomes: 'Lernergebnisse (eins pro Zeile)',
      textLabel: 'Kursbeschreibung',
      outcomesLabel: 'Lernergebnisse, eins pro Zeile',
      textPlaceholder: 'z. B. Grundlagen der Buchhaltung: doppelte Buchführung, Kontenrahmen und Jahresabschluss',
      textHint: 'Strg+Enter holt Vorschläge.',
      taxonomies: 'Taxonomien',
      loading: 'Lädt …',
      skillsCount: '{n} Skills',
      sources: 'Quellen: {list}',
      strictness: 'Strenge',
      broad: 'breit',
      normal: 'normal',
      strict: 'streng',
      hint_broad: 'Bis zu 20 Vorschläge.',
      hint_normal: 'Bis zu 10 Vorschläge.',
      hint_strict: 'Bis zu 10, abgeschnitten am größten Abstand zwischen zwei Scores.',
      suggest: 'Vorschläge',
      sourceHeading: 'Text mit Belegstelle',
      sourceHint: '· Zeigen Sie auf einen Vorschlag oder wählen Sie ihn mit Tab.',
      resultsHeading: 'Vorschläge',
      searching: 'Suche läuft …',
      nResults: '{n} Vorschläge.',
      oneResult: '1 Vorschlag.',
      noResults: 'Keine Vorschläge. Versuchen Sie „breit“ oder einen längeren Text.',
      reranking: 'Reranking',
      models: 'Modelle: {list}',
      support: 'Beleg:',
      score: 'Score',
      openUri: 'URI',
      openUriOf: 'URI von „{label}“ öffnen',
      accept: 'Übernehmen',
      reject: 'Ablehnen',
      acceptX: '„{label}“ übernehmen',
      rejectX: '„{label}“ ablehnen',
      accepted: 'übernommen',
      rejected: 'abgelehnt',
      added: 'von Hand',
      addHeading: 'Skill von Hand hinzufügen',
      searchLabel: 'Skill suchen',
      searchPlaceholder: 'z. B. Buchführung',
      searchHint: 'Pfeiltasten wählen, Enter fügt hinzu, Esc schließt.',
      noMatches: 'Keine Treffer.',
      alreadySuggested: 'schon vorgeschlagen',
      alreadyAdded: 'schon hinzugefügt',
      addedMsg: '„{label}“ hinzugefügt.',
      acceptedMsg: '„{label}“ übernommen.',
      rejectedMsg: '„{label}“ abgelehnt.',
      undecidedMsg: '„{label}“ wieder offen.',
      removedMsg: '„{label}“ entfernt.',
      remove: 'Entfernen',
      removeX: '„{label}“ entfernen',
      finalHeading: 'Endgültige Liste',
      finalEmpty: 'Noch nichts übernommen oder hinzugefügt.',
      copyJson: 'JSON kopieren',
      downloadJson: 'JSON herunterladen',
      downloadCsv: 'CSV herunterladen',
      copied: 'JSON in die Zwischenablage kopiert.',
      copyFailed: 'Kopieren nicht möglich – bitte „JSON herunterladen“ nutzen.',
      sendFeedback: 'Feedback senden',
      sending: 'Wird gesendet …',
      feedbackSaved: 'Feedback gespeichert (Nr. {id}: {a} übernommen, {r} abgelehnt, {d} hinzugefügt).',
      nothingToSend: 'Nichts zu senden: Übernehmen, ablehnen oder fügen Sie zuerst Skills hinzu.',
      settings: 'API-Schlüssel',
      keyLabel: 'Schlüssel (nur für diese Browser-Sitzung gespeichert)',
      errEmpty: 'Bitte zuerst einen Kurstext oder Lernergebnisse eingeben.',
      errNoTaxonomy: 'Bitte mindestens eine Taxonomie wählen.',
      errNetwork: 'Der Dienst ist nicht erreichbar.',
      err400: 'Die Anfrage war fehlerhaft',
      err401: 'API-Schlüssel fehlt oder ist falsch – unten unter „API-Schlüssel“ eintragen oder die Seite mit ?key=… öffnen',
      err404: 'Nicht gefunden',
      err413: 'Zu groß oder leer',
      err422: 'Ungültige Angabe',
      err424: 'Das Modell des Dienstes ist nicht verfügbar oder die Berechnung schlug fehl',
      err429: 'Der Dienst ist ausgelastet – bitte gleich noch einmal versuchen',
      err503: 'Der Dienst startet noch (Modelle und Skills werden geladen)',
      errOther: 'Fehler',
      waiting: 'Der Dienst startet noch – neuer Versuch in wenigen Sekunden …',
    },
    en: {
      docTitle: 'skillmatch · course editor',
      title: 'Course editor',
      otherLang: 'Deutsch',
      inputHeading: 'Course text',
      inputKind: 'Input',
      kindText: 'Free text',
      kindOutcomes: 'Learning outcomes (one per line)',
      textLabel: 'Course description',
      outcomesLabel: 'Learning outcomes, one per line',
      textPlaceholder: 'e.g. Grundlagen der Buchhaltung: doppelte Buchführung, Kontenrahmen und Jahresabschluss',
      textHint: 'Ctrl+Enter gets suggestions.',
      taxonomies: 'Taxonomies',
      loading: 'Loading …',
      skillsCount: '{n} skills',
      sources: 'Sources: {list}',
      strictness: 'Strictness',
      broad: 'broad',
      normal: 'normal',
      strict: 'strict',
      hint_broad: 'Up to 20 suggestions.',
      hint_normal: 'Up to 10 suggestions.',
      hint_strict: 'Up to 10, cut at the largest gap between two scores.',
      suggest: 'Suggest',
      sourceHeading: 'Text with the supporting passage',
      sourceHint: '· Point at a suggestion or tab to it.',
      resultsHeading: 'Suggestions',
      searching: 'Searching …',
      nResults: '{n} suggestions.',
      oneResult: '1 suggestion.',
      noResults: 'No suggestions. Try “broad” or a longer text.',
      reranking: 'reranking',
      models: 'models: {list}',
      support: 'Evidence:',
      score: 'Score',
      openUri: 'URI',
      openUriOf: 'Open the URI of “{label}”',
      accept: 'Accept',
      reject: 'Reject',
      acceptX: 'Accept “{label}”',
      rejectX: 'Reject “{label}”',
      accepted: 'accepted',
      rejected: 'rejected',
      added: 'by hand',
      addHeading: 'Add a skill by hand',
      searchLabel: 'Search a skill',
      searchPlaceholder: 'e.g. Buchführung',
      searchHint: 'Arrow keys select, Enter adds, Esc closes.',
      noMatches: 'No matches.',
      alreadySuggested: 'already suggested',
      alreadyAdded: 'already added',
      addedMsg: '“{label}” added.',
      acceptedMsg: '“{label}” accepted.',
      rejectedMsg: '“{label}” rejected.',
      undecidedMsg: '“{label}” open again.',
      removedMsg: '“{label}” removed.',
      remove: 'Remove',
      removeX: 'Remove “{label}”',
      finalHeading: 'Final list',
      finalEmpty: 'Nothing accepted or added yet.',
      copyJson: 'Copy JSON',
      downloadJson: 'Download JSON',
      downloadCsv: 'Download CSV',
      copied: 'JSON copied to the clipboard.',
      copyFailed: 'Copying is not possible here – please use “Download JSON”.',
      sendFeedback: 'Send feedback',
      sending: 'Sending …',
      feedbackSaved: 'Feedback stored (no. {id}: {a} accepted, {r} rejected, {d} added).',
      nothingToSend: 'Nothing to send: accept, reject or add skills first.',
      settings: 'API key',
      keyLabel: 'Key (kept for this browser session only)',
      errEmpty: 'Please enter a course text or learning outcomes first.',
      errNoTaxonomy: 'Please choose at least one taxonomy.',
      errNetwork: 'The service cannot be reached.',
      err400: 'The request was malformed',
      err401: 'API key missing or wrong – enter it under “API key” below or open the page with ?key=…',
      err404: 'Not found',
      err413: 'Too large or empty',
      err422: 'Invalid value',
      err424: 'The service lacks the model or inference failed',
      err429: 'The service is busy – please try again in a moment',
      err503: 'The service is still starting (loading models and skills)',
      errOther: 'Error',
      waiting: 'The service is still starting – trying again in a few seconds …',
    },
  };
  const PRESETS = { broad: { top: 20 }, normal: { top: 10 }, strict: { top: 10, gap: true } };
  const LS_LANG = 'skillmatch.lang', SS_KEY = 'skillmatch.apiKey';

  const $ = (id) => document.getElementById(id);
  const store = (s) => ({
    get: (k) => { try { return s().getItem(k); } catch (_) { return null; } },
    set: (k, v) => { try { s().setItem(k, v); } catch (_) { /* storage disabled */ } },
  });
  const local = store(() => window.localStorage), session = store(() => window.sessionStorage);

  const state = {
    lang: local.get(LS_LANG) === 'en' ? 'en' : 'de',
    key: '',
    taxonomies: [],
    matched: null, // {text, request_id, mode, reranked, models, timing_ms, results: [...]}
    decisions: new Map(), // skill key -> 'accepted' | 'rejected'
    added: [], // [{taxonomy, uri, label, id}]
    active: -1,
    busy: false,
    sending: false,
  };

  function t(key, vars) {
    let s = I18N[state.lang][key];
    if (s === undefined) s = I18N.de[key] !== undefined ? I18N.de[key] : key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m));
    return s;
  }
  const fmtInt = (n) => new Intl.NumberFormat(state.lang).format(n);
  const fmtScore = (x, reranked) =>
    new Intl.NumberFormat(state.lang, reranked ? { minimumFractionDigits: 2, maximumFractionDigits: 2 }
      : { maximumSignificantDigits: 3 }).format(x);
  const skillKey = (s) => s.taxonomy + '\u0000' + s.uri;
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of kids) if (c !== null && c !== undefined) e.append(c);
    return e;
  };
  const announce = (msg) => { const a = $('announce'); a.textContent = ''; setTimeout(() => { a.textContent = msg; }, 30); };

  // ---------- API ----------
  class ApiError extends Error {
    constructor(status, type, message) { super(message); this.status = status; this.type = type; }
  }
  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (state.key) headers.Authorization = 'Bearer ' + state.key;
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (_) {
      throw new ApiError(0, '', '');
    }
    const raw = await res.text();
    let data = null;
    try { data = raw ? JSON.parse(raw) : null; } catch (_) { data = null; }
    if (!res.ok) {
      const msg = data && typeof data === 'object' ? (data.error || data.message || '') : raw.slice(0, 300);
      throw new ApiError(res.status, (data && data.error_type) || '', msg || res.statusText);
    }
    return data;
  }
  function errorText(e) {
    if (!(e instanceof ApiError)) return t('errOther') + ': ' + (e && e.message ? e.message : String(e));
    if (e.status === 0) return t('errNetwork');
    const head = I18N.de['err' + e.status] !== undefined ? t('err' + e.status) : t('errOther');
    const tail = [e.message, 'HTTP ' + e.status + (e.type ? ', ' + e.type : '')].filter(Boolean);
    return head + ': ' + tail[0] + (tail.length > 1 ? ' (' + tail[1] + ')' : '');
  }
  // Messages are kept as functions so that a language switch re-renders them.
  const texts = {};
  function setText(id, fn) {
    texts[id] = fn || null;
    $(id).textContent = fn ? fn() : '';
  }
  function showError(fn, box = 'error') {
    setText(box, fn);
    $(box).hidden = !fn;
  }

  // ---------- UTF-8 byte offsets -> JS string (UTF-16) indices ----------
  function byteIndex(text) {
    let bytes = 0;
    for (const ch of text) { const c = ch.codePointAt(0); bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }
    const map = new Int32Array(bytes + 1).fill(-1); // -1: inside a multi-byte character
    let b = 0, i = 0;
    for (const ch of text) {
      map[b] = i;
      const c = ch.codePointAt(0);
      b += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      i += ch.length;
    }
    map[b] = i;
    return map;
  }
  function spanRange(text, map, sup) {
    if (!sup) return null;
    const ok = Number.isInteger(sup.start) && Number.isInteger(sup.end) && sup.start >= 0 &&
      sup.end <= map.length - 1 && sup.start <= sup.end && map[sup.start] >= 0 && map[sup.end] >= 0;
    const r = ok ? [map[sup.start], map[sup.end]] : null;
    if (r && (!sup.text || text.slice(r[0], r[1]) === sup.text)) return r;
    const k = sup.text ? text.indexOf(sup.text) : -1; // offsets disagree with the text: find it
    if (k >= 0) return [k, k + sup.text.length];
    return r;
  }

  // ---------- language ----------
  function applyLang() {
    document.documentElement.lang = state.lang;
    document.title = t('docTitle');
    for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
    for (const e of document.querySelectorAll('[data-i18n-ph]')) e.placeholder = t(e.dataset.i18nPh);
    const b = $('lang');
    b.textContent = t('otherLang');
    b.lang = state.lang === 'de' ? 'en' : 'de';
    updateKindLabel();
    updateStrictHint();
    for (const [id, fn] of Object.entries(texts)) if (fn) $(id).textContent = fn();
    renderTaxonomies();
    renderResults();
    renderAdded();
    renderFinal();
  }
  function updateKindLabel() {
    $('text-label').textContent = t(inputKind() === 'outcomes' ? 'outcomesLabel' : 'textLabel');
  }
  function updateStrictHint() { $('strict-hint').textContent = t('hint_' + strictness()); }
  const inputKind = () => document.querySelector('input[name=kind]:checked').value;
  const strictness = () => document.querySelector('input[name=strict]:checked').value;

  // ---------- taxonomies ----------
  function renderTaxonomies() {
    const box = $('taxonomies');
    if (!state.taxonomies.length) return;
    const checked = new Set(selectedTaxonomies(true));
    box.textContent = '';
    for (const tx of state.taxonomies) {
      const cb = el('input', { type: 'checkbox', value: tx.name, checked: checked.has(tx.name) });
      cb.checked = checked.has(tx.name);
      box.append(el('label', { class: 'check', title: [tx.name, tx.version, tx.licence].filter(Boolean).join(' · ') }, cb,
        el('span', null, (tx.title || tx.name) + ' ',
          el('span', { class: 'count', text: '(' + t('skillsCount', { n: fmtInt(tx.skills || 0) }) + ')' }))));
    }
    const attr = state.taxonomies.map((x) => x.attribution).filter(Boolean);
    $('attribution').textContent = attr.length ? t('sources', { list: attr.join(' · ') }) : '';
  }
  function selectedTaxonomies(forRender) {
    const boxes = document.querySelectorAll('#taxonomies input[type=checkbox]');
    if (!boxes.length) return forRender ? state.taxonomies.map((x) => x.name) : [];
    return [...boxes].filter((b) => b.checked).map((b) => b.value);
  }
  async function loadTaxonomies() {
    try {
      const data = await api('GET', 'v1/taxonomies');
      state.taxonomies = Array.isArray(data) ? data : [];
      if (!state.taxonomies.length) $('taxonomies').textContent = '–';
      showError('');
      renderTaxonomies();
    } catch (e) {
      if (e instanceof ApiError && (e.status === 503 || e.status === 0 || e.status === 429)) {
        $('taxonomies').textContent = t('waiting');
        setTimeout(loadTaxonomies, 2000);
      } else {
        $('taxonomies').textContent = '–';
        showError(() => errorText(e));
      }
    }
  }

  // ---------- matching ----------
  async function doMatch() {
    if (state.busy) return;
    showError('');
    const raw = $('text').value;
    const body = {};
    let text;
    if (inputKind() === 'outcomes') {
      const lines = raw.split('\n').map((s) => s.trim()).filter(Boolean);
      body.learning_outcomes = lines;
      text = lines.join('\n');
    } else {
      body.text = raw;
      text = raw;
    }
    if (!text.trim()) { showError(() => t('errEmpty')); $('text').focus(); return; }
    const tax = selectedTaxonomies();
    if (state.taxonomies.length && !tax.length) { showError(() => t('errNoTaxonomy')); return; }
    if (tax.length) body.taxonomy = tax;
    Object.assign(body, PRESETS[strictness()], { explain: true });

    state.busy = true;
    $('match').setAttribute('aria-disabled', 'true');
    $('results').setAttribute('aria-busy', 'true');
    setText('status', () => t('searching'));
    try {
      const data = await api('POST', 'v1/match', body);
      if (!state.matched || state.matched.text !== text) { // a new text: a new feedback item
        state.decisions = new Map();
        state.added = [];
        setText('feedback-result', null);
        delete $('feedback-result').dataset.feedbackId;
      }
      const map = byteIndex(text);
      const results = (data && Array.isArray(data.results) ? data.results : []).map((r) =>
        Object.assign({}, r, { range: spanRange(text, map, r.support) }));
      state.matched = {
        text, results, request_id: data.request_id, mode: data.mode, reranked: !!data.reranked,
        models: data.models || {}, timing_ms: data.timing_ms,
      };
      state.active = results.length ? 0 : -1;
      renderResults();
      renderAdded();
      renderFinal();
      $('source-box').hidden = false;
      setText('status', () => (results.length === 0 ? t('noResults')
        : results.length === 1 ? t('oneResult') : t('nResults', { n: results.length })));
    } catch (e) {
      setText('status', null);
      showError(() => errorText(e));
    } finally {
      state.busy = false;
      $('match').removeAttribute('aria-disabled');
      $('results').removeAttribute('aria-busy');
    }
  }

  function metaText(m) {
    const parts = [(m.mode || '?') + (m.reranked ? ' + ' + t('reranking') : '')];
    if (typeof m.timing_ms === 'number') parts.push(fmtInt(Math.round(m.timing_ms)) + ' ms');
    const ids = ['embedder', 'reranker'].map((k) => m.models[k] && m.models[k].id).filter(Boolean)
      .map((id) => id.replace(/\/+$/, '').split('/').pop());
    if (ids.length) parts.push(t('models', { list: ids.join(' / ') }));
    return parts.join(' · ');
  }

  function barOf(frac) {
    const fill = el('span');
    fill.style.width = (frac * 100).toFixed(1) + '%'; // CSSOM, allowed under a strict CSP
    return el('span', { class: 'bar', 'aria-hidden': 'true' }, fill);
  }

  function renderResults() {
    const list = $('results');
    list.textContent = '';
    const m = state.matched;
    $('meta').textContent = m ? metaText(m) : '';
    if (m) {
      const full = ['embedder', 'reranker'].map((k) => m.models[k] && m.models[k].id && k + ': ' + m.models[k].id)
        .filter(Boolean).join('\n');
      $('meta').title = full;
    }
    if (!m) return;
    const max = Math.max(0, ...m.results.map((r) => r.score || 0));
    m.results.forEach((r, i) => {
      const decision = state.decisions.get(skillKey(r)) || '';
      const frac = m.reranked ? Math.min(1, Math.max(0, r.score)) : (max > 0 ? Math.max(0, r.score) / max : 0);
      const labelId = 'sugg-label-' + i;
      const link = /^https?:\/\//i.test(r.uri || '')
        ? el('a', { href: r.uri, target: '_blank', rel: 'noopener noreferrer', title: r.uri,
          'aria-label': t('openUriOf', { label: r.label }) }, t('openUri') + ' ↗')
        : el('code', { class: 'uri', text: r.uri });
      const li = el('li', { class: 'sugg' + (i === state.active ? ' active' : ''), 'data-i': i,
        'data-state': decision || null, 'data-uri': r.uri, 'data-taxonomy': r.taxonomy },
      el('div', { class: 'head' },
        el('span', { class: 'rank', 'aria-hidden': 'true', text: (r.rank || i + 1) + '.' }), ' ',
        el('span', { class: 'label', id: labelId, text: r.label }), ' ',
        el('span', { class: 'tax', text: r.taxonomy }),
        decision ? ' ' : null,
        decision ? el('span', { class: 'badge ' + decision, text: (decision === 'accepted' ? '✓ ' : '✗ ') + t(decision) }) : null),
      el('div', { class: 'scoreline' },
        barOf(frac),
        el('span', { class: 'score', text: t('score') + ' ' + fmtScore(r.score, m.reranked) })),
      r.support && r.support.text ? el('p', { class: 'support' }, el('span', { class: 'muted', text: t('support') + ' ' }),
        el('q', { text: r.support.text })) : null,
      el('div', { class: 'tools' }, link, el('span', { class: 'decide' },
        el('button', { type: 'button', class: 'accept', 'data-act': 'accepted', 'aria-pressed': String(decision === 'accepted'),
          'aria-label': t('acceptX', { label: r.label }) }, el('span', { 'aria-hidden': 'true', text: '✓ ' }), t('accept')),
        el('button', { type: 'button', class: 'reject', 'data-act': 'rejected', 'aria-pressed': String(decision === 'rejected'),
          'aria-label': t('rejectX', { label: r.label }) }, el('span', { 'aria-hidden': 'true', text: '✗ ' }), t('reject')))));
      list.append(li);
    });
    renderSource();
  }

  function renderSource() {
    const box = $('source');
    const m = state.matched;
    box.textContent = '';
    if (!m) return;
    const r = m.results[state.active];
    if (!r || !r.range) { box.textContent = m.text; return; }
    const [a, b] = r.range;
    const mark = el('mark', { class: 'support-mark', title: r.label, text: m.text.slice(a, b) });
    box.append(m.text.slice(0, a), mark, m.text.slice(b));
    const top = mark.offsetTop - box.offsetTop; // keep the mark visible inside the box only
    if (top < box.scrollTop || top + mark.offsetHeight > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, top - box.clientHeight / 3);
    }
  }
  function setActive(i) {
    if (!state.matched || i === state.active || !state.matched.results[i]) return;
    state.active = i;
    for (const li of $('results').children) li.classList.toggle('active', Number(li.dataset.i) === i);
    renderSource();
  }

  function decide(i, what) {
    const r = state.matched && state.matched.results[i];
    if (!r) return;
    const k = skillKey(r);
    const now = state.decisions.get(k) === what ? '' : what;
    if (now) state.decisions.set(k, now); else state.decisions.delete(k);
    // Re-render only this item, keeping focus on the pressed button.
    const focused = document.activeElement && document.activeElement.dataset.act;
    renderResults();
    if (focused) {
      const b = $('results').querySelector(`li[data-i="${i}"] button[data-act="${focused}"]`);
      if (b) b.focus();
    }
    renderFinal();
    announce(t(now === 'accepted' ? 'acceptedMsg' : now === 'rejected' ? 'rejectedMsg' : 'undecidedMsg', { label: r.label }));
  }

  // ---------- manual search ----------
  const search = { timer: 0, seq: 0, options: [], active: -1 };
  function inResults(s) { return state.matched && state.matched.results.some((r) => skillKey(r) === skillKey(s)); }
  function inAdded(s) { return state.added.some((a) => skillKey(a) === skillKey(s)); }
  function closeList() {
    $('search-list').hidden = true;
    $('search').setAttribute('aria-expanded', 'false');
    $('search').removeAttribute('aria-activedescendant');
    search.active = -1;
  }
  function renderOptions(message) {
    const ul = $('search-list');
    ul.textContent = '';
    if (message || !search.options.length) {
      ul.append(el('li', { class: 'empty', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false', text: message || t('noMatches') }));
    }
    search.options.forEach((s, i) => {
      const note = inAdded(s) ? t('alreadyAdded') : inResults(s) ? t('alreadySuggested') : '';
      ul.append(el('li', { id: 'search-opt-' + i, role: 'option', 'aria-selected': String(i === search.active),
        'data-i': i, 'data-uri': s.uri, 'data-taxonomy': s.taxonomy },
      el('span', { class: 'label', text: s.label }), ' ', el('span', { class: 'tax', text: s.taxonomy }),
      note ? el('span', { class: 'note', text: ' · ' + note }) : null));
    });
    ul.hidden = false;
    $('search').setAttribute('aria-expanded', 'true');
    const act = search.active >= 0 ? $('search-opt-' + search.active) : null;
    if (act) { $('search').setAttribute('aria-activedescendant', act.id); act.scrollIntoView({ block: 'nearest' }); }
    else $('search').removeAttribute('aria-activedescendant');
  }
  async function runSearch() {
    const q = $('search').value.trim();
    const seq = ++search.seq;
    if (q.length < 2) { search.options = []; closeList(); return; }
    const sel = selectedTaxonomies();
    const all = !sel.length || sel.length === state.taxonomies.length;
    const params = new URLSearchParams({ q, limit: String(sel.length === 1 || all ? 10 : 30) });
    if (sel.length === 1) params.set('taxonomy', sel[0]);
    try {
      const data = await api('GET', 'v1/skills?' + params);
      if (seq !== search.seq) return;
      let list = Array.isArray(data) ? data : (data && (data.skills || data.results || data.items)) || [];
      if (!all) list = list.filter((s) => sel.includes(s.taxonomy));
      search.options = list.slice(0, 10);
      search.active = -1;
      renderOptions();
    } catch (e) {
      if (seq !== search.seq) return;
      search.options = [];
      renderOptions(errorText(e));
    }
  }
  function addSkill(s) {
    if (!s) return;
    if (inResults(s)) {
      const i = state.matched.results.findIndex((r) => skillKey(r) === skillKey(s));
      state.decisions.set(skillKey(s), 'accepted');
      renderResults();
      renderFinal();
      setActive(i);
      announce(t('acceptedMsg', { label: s.label }));
    } else if (!inAdded(s)) {
      state.added.push({ taxonomy: s.taxonomy, uri: s.uri, label: s.label, id: s.id });
      renderAdded();
      renderFinal();
      announce(t('addedMsg', { label: s.label }));
    }
    $('search').value = '';
    search.options = [];
    closeList();
  }
  function renderAdded() {
    const ul = $('added');
    ul.textContent = '';
    state.added.forEach((s, i) => {
      ul.append(el('li', { class: 'chip', 'data-uri': s.uri, 'data-taxonomy': s.taxonomy },
        el('span', { 'aria-hidden': 'true', text: '+ ' }), el('span', { class: 'label', text: s.label }), ' ',
        el('span', { class: 'tax', text: s.taxonomy }),
        el('button', { type: 'button', class: 'icon', 'data-remove': i, 'aria-label': t('removeX', { label: s.label }), title: t('remove') }, '✗')));
    });
  }

  // ---------- final list, export ----------
  function finalList() {
    const out = [];
    if (state.matched) {
      for (const r of state.matched.results) {
        if (state.decisions.get(skillKey(r)) === 'accepted') {
          out.push({ taxonomy: r.taxonomy, uri: r.uri, label: r.label, score: r.score, source: 'accepted' });
        }
      }
    }
    for (const s of state.added) out.push({ taxonomy: s.taxonomy, uri: s.uri, label: s.label, score: null, source: 'added' });
    return out;
  }
  function renderFinal() {
    const list = finalList();
    const ul = $('final');
    ul.textContent = '';
    $('final-count').textContent = String(list.length);
    if (!list.length) ul.append(el('li', { class: 'muted', text: t('finalEmpty') }));
    for (const s of list) {
      ul.append(el('li', { 'data-uri': s.uri },
        el('span', { class: 'mark-' + s.source, text: s.source === 'accepted' ? '✓ ' : '+ ' }),
        el('span', { text: s.label }), ' ', el('span', { class: 'tax', text: s.taxonomy }),
        el('span', { class: 'muted', text: ' · ' + t(s.source) })));
    }
    for (const id of ['copy-json', 'dl-json', 'dl-csv']) $(id).disabled = !list.length;
  }
  const toJson = () => JSON.stringify(finalList(), null, 2) + '\n';
  function toCsv() {
    const q = (v) => (v === null || v === undefined ? '' : /[",\r\n]/.test(String(v)) ? '"' + String(v).replace(/"/g, '""') + '"' : String(v));
    const rows = [['taxonomy', 'uri', 'label', 'score']];
    for (const s of finalList()) rows.push([s.taxonomy, s.uri, s.label, s.score === null ? '' : s.score]);
    return rows.map((r) => r.map(q).join(',')).join('\r\n') + '\r\n';
  }
  function download(name, type, content) {
    const url = URL.createObjectURL(new Blob([content], { type }));
    const a = el('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
  async function copyJson() {
    const text = toJson();
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
    } catch (_) {
      const ta = el('textarea', { class: 'sr-only', readonly: true });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
      ta.remove();
      $('copy-json').focus();
      if (!ok) { announce(t('copyFailed')); showError(() => t('copyFailed'), 'feedback-error'); return; }
    }
    announce(t('copied'));
  }

  // ---------- feedback ----------
  async function sendFeedback() {
    if (state.sending) return;
    showError('', 'feedback-error');
    const text = state.matched ? state.matched.text : $('text').value;
    if (!text.trim()) { showError(() => t('errEmpty'), 'feedback-error'); return; }
    const pick = (what) => (state.matched ? state.matched.results : [])
      .filter((r) => state.decisions.get(skillKey(r)) === what).map((r) => ({ taxonomy: r.taxonomy, uri: r.uri }));
    const body = {
      text, accepted: pick('accepted'), rejected: pick('rejected'),
      added: state.added.map((s) => ({ taxonomy: s.taxonomy, uri: s.uri })),
    };
    if (!body.accepted.length && !body.rejected.length && !body.added.length) {
      showError(() => t('nothingToSend'), 'feedback-error');
      return;
    }
    if (state.matched && state.matched.request_id) body.request_id = state.matched.request_id;
    state.sending = true;
    setText('feedback-result', () => t('sending'));
    try {
      const r = await api('POST', 'v1/feedback', body);
      setText('feedback-result', () => t('feedbackSaved', { id: r.id, a: r.accepted, r: r.rejected, d: r.added }));
      $('feedback-result').dataset.feedbackId = String(r.id);
    } catch (e) {
      setText('feedback-result', null);
      delete $('feedback-result').dataset.feedbackId;
      showError(() => errorText(e), 'feedback-error');
    } finally {
      state.sending = false;
    }
  }

  // ---------- wiring ----------
  function init() {
    const params = new URLSearchParams(location.search);
    if (params.has('key')) { // read once, keep for the session, drop from the address bar
      session.set(SS_KEY, params.get('key'));
      params.delete('key');
      const qs = params.toString();
      history.replaceState(null, '', location.pathname + (qs ? '?' + qs : '') + location.hash);
    }
    state.key = session.get(SS_KEY) || '';
    $('api-key').value = state.key;
    $('key-form').addEventListener('submit', (e) => { e.preventDefault(); $('api-key').blur(); });
    $('api-key').addEventListener('change', (e) => {
      state.key = e.target.value.trim();
      session.set(SS_KEY, state.key);
      if (!state.taxonomies.length) loadTaxonomies();
    });

    $('lang').addEventListener('click', () => {
      state.lang = state.lang === 'de' ? 'en' : 'de';
      local.set(LS_LANG, state.lang);
      applyLang();
    });
    $('match-form').addEventListener('submit', (e) => { e.preventDefault(); doMatch(); });
    document.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); doMatch(); }
    });
    for (const r of document.querySelectorAll('input[name=kind]')) r.addEventListener('change', updateKindLabel);
    for (const r of document.querySelectorAll('input[name=strict]')) r.addEventListener('change', updateStrictHint);

    const results = $('results');
    results.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-act]');
      if (b) decide(Number(b.closest('li').dataset.i), b.dataset.act);
    });
    const activate = (e) => { const li = e.target.closest && e.target.closest('li.sugg'); if (li) setActive(Number(li.dataset.i)); };
    results.addEventListener('mouseover', activate);
    results.addEventListener('focusin', activate);

    const input = $('search');
    input.addEventListener('input', () => { clearTimeout(search.timer); search.timer = setTimeout(runSearch, 200); });
    input.addEventListener('keydown', (e) => {
      const n = search.options.length;
      const open = !$('search-list').hidden;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (!n) return;
        if (!open) { search.active = e.key === 'ArrowDown' ? 0 : n - 1; }
        else search.active = e.key === 'ArrowDown' ? (search.active + 1) % n : (search.active <= 0 ? n - 1 : search.active - 1);
        renderOptions();
      } else if (e.key === 'Enter') {
        e.preventDefault();
        if (open && search.active >= 0) addSkill(search.options[search.active]);
      } else if (e.key === 'Escape') {
        if (open) { e.preventDefault(); closeList(); } else input.value = '';
      }
    });
    input.addEventListener('blur', () => setTimeout(closeList, 150));
    const sl = $('search-list');
    sl.addEventListener('mousedown', (e) => e.preventDefault()); // keep the focus in the input
    sl.addEventListener('click', (e) => {
      const li = e.target.closest('li[data-i]');
      if (li) addSkill(search.options[Number(li.dataset.i)]);
    });

    $('added').addEventListener('click', (e) => {
      const b = e.target.closest('button[data-remove]');
      if (!b) return;
      const [s] = state.added.splice(Number(b.dataset.remove), 1);
      renderAdded();
      renderFinal();
      announce(t('removedMsg', { label: s.label }));
      const next = $('added').querySelector('button') || input;
      next.focus();
    });
    $('copy-json').addEventListener('click', copyJson);
    $('dl-json').addEventListener('click', () => download('skillmatch-skills.json', 'application/json', toJson()));
    $('dl-csv').addEventListener('click', () => download('skillmatch-skills.csv', 'text/csv;charset=utf-8', toCsv()));
    $('send-feedback').addEventListener('click', sendFeedback);

    applyLang();
    loadTaxonomies();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
