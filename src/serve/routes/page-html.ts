/**
 * The try-it page: self-contained HTML, CSS and script (no build step, no CDN, no external
 * requests). It reads /api/model for the model's name, version and offline evaluation (the
 * per-class table; the charts are SVG images drawn by the server, /charts/<name>.svg), refreshes
 * its live panel from /api/live, and posts the chosen or dropped photo to /predict as
 * multipart/form-data. All server text is inserted with textContent, never as HTML. One column
 * below 720 px wide, so it works on a phone.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kennel — try the model</title>
<link rel="icon" href="data:,">
<style>
  :root { font-family: system-ui, sans-serif; color: #1d232b; background: #f5f6f8; }
  body { max-width: 980px; margin: 1.5rem auto; padding: 0 .75rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
  .muted { color: #5c6773; font-size: .9rem; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; margin-top: 1rem; }
  .card { background: #fff; border-radius: 10px; padding: 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); min-width: 0; }
  .wide { margin-top: 1rem; }
  #drop { border: 2px dashed #98a2ad; border-radius: 10px; padding: 1.5rem; text-align: center; cursor: pointer; min-height: 180px; display: flex; flex-direction: column; align-items: center; justify-content: center; gap: .5rem; }
  #drop.over, #drop:focus-within { border-color: #2f6fdf; background: #eef3fd; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  #preview { max-width: 100%; max-height: 220px; border-radius: 6px; display: none; }
  #label { font-size: 2rem; font-weight: 700; text-transform: capitalize; overflow-wrap: anywhere; }
  .bar { display: grid; grid-template-columns: minmax(4rem, 7rem) 1fr minmax(4rem, auto); align-items: center; gap: .5rem; margin: .3rem 0; }
  .bar > span:first-child { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .bar > span:last-child { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .track { background: #e6e9ed; border-radius: 4px; height: 14px; overflow: hidden; }
  .fill { background: #2f6fdf; height: 100%; }
  .bar.top .fill { background: #1b8a3a; }
  .err { color: #b3261e; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  th, td { padding: .25rem .4rem; border-bottom: 1px solid #eceef1; text-align: right; font-variant-numeric: tabular-nums; }
  th:first-child, td:first-child { text-align: left; }
  .figures { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; margin: .25rem 0 .75rem; }
  .figures b { font-size: 1.15rem; }
  .charts img { display: block; max-width: 100%; height: auto; margin: .75rem 0; }
  .stats { display: grid; grid-template-columns: repeat(3, 1fr); gap: .5rem; margin-bottom: .5rem; }
  .stats b { display: block; font-size: 1.3rem; font-variant-numeric: tabular-nums; }
  button { font: inherit; padding: .3rem .8rem; border-radius: 6px; border: 1px solid #98a2ad; background: #fff; cursor: pointer; }
  @media (max-width: 720px) { .grid { grid-template-columns: 1fr; } .stats { grid-template-columns: 1fr 1fr; } }
</style>
</head>
<body>
<header>
  <h1>Kennel</h1>
  <div class="muted">Model <b id="model-name">…</b> · version <b id="model-version">…</b> · <span id="model-state">loading</span></div>
  <div class="muted" id="model-artifact"></div>
</header>
<main>
<div class="grid">
  <section class="card" aria-labelledby="try-title">
    <h2 id="try-title">Try a photo</h2>
    <label id="drop" for="file">
      <img id="preview" alt="the chosen photo">
      <span id="drop-text">Drop a photo here or click to choose one</span>
      <input id="file" class="visually-hidden" type="file" aria-label="Choose a photo to classify" accept="image/jpeg,image/png,image/webp">
    </label>
  </section>
  <section class="card" id="answer" aria-labelledby="answer-title" aria-live="polite">
    <h2 id="answer-title">Answer</h2>
    <div id="label">—</div>
    <div id="confidence" class="muted"></div>
    <div id="bars"></div>
    <div id="error" class="err"></div>
    <div id="timing" class="muted"></div>
  </section>
</div>
<section class="card wide" id="live" aria-labelledby="live-title">
  <h2 id="live-title">Live: this replica since it started</h2>
  <div class="stats">
    <div><span class="muted">requests</span><b id="live-requests">—</b></div>
    <div><span class="muted">answered unsure</span><b id="live-unsure">—</b></div>
    <div><span class="muted">live accuracy (feedback)</span><b id="live-accuracy">—</b></div>
  </div>
  <div class="muted" id="live-feedback"></div>
  <h2 style="margin-top:.75rem">Label mix</h2>
  <div id="live-labels"></div>
  <div class="charts"><img id="live-confidence" alt="Confidence of live predictions against the test split's" width="640" height="300"></div>
  <div class="muted"><button id="live-toggle" type="button" aria-pressed="false">Pause updates</button> <span id="live-updated"></span></div>
</section>
<section class="card wide" id="evaluation" aria-labelledby="evaluation-title">
  <h2 id="evaluation-title">Offline evaluation of this version (test split)</h2>
  <p id="eval-empty" class="muted">no evaluation metrics published</p>
  <div class="figures" id="eval-summary"></div>
  <table id="per-class" hidden><thead><tr><th scope="col">class</th><th scope="col">precision</th><th scope="col">recall</th><th scope="col">F1</th><th scope="col">support</th></tr></thead><tbody></tbody></table>
  <div class="charts" id="eval-charts"></div>
</section>
</main>
<script>
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var CHART_ALT = { confusion: 'Confusion matrix of the test split', curves: 'Training curves: loss and accuracy per epoch', reliability: 'Reliability diagram: accuracy against confidence' };
  var params = new URLSearchParams(location.search);
  var refreshMs = Math.max(1, Number(params.get('refresh')) || 5) * 1000;
  function pct(p) { return (Math.round(p * 1000) / 10).toFixed(1) + '%'; }
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
  function bar(name, p, text, top) {
    var line = el('div', undefined, top ? 'bar top' : 'bar'); line.setAttribute('data-class', name);
    var track = el('div', undefined, 'track'); track.setAttribute('role', 'img'); track.setAttribute('aria-label', name + ' ' + text);
    var fill = el('div', undefined, 'fill'); fill.style.width = (Math.max(0, Math.min(1, p)) * 100).toFixed(1) + '%';
    track.appendChild(fill);
    line.appendChild(el('span', name)); line.appendChild(track); line.appendChild(el('span', text));
    return line;
  }
  function figure(name, value) { var d = el('div'); d.appendChild(el('span', name + ' ', 'muted')); d.appendChild(el('b', value)); return d; }

  function showModel(m) {
    $('model-name').textContent = m.name;
    var meta = m.metadata || {};
    $('model-version').textContent = m.versionRecorded ? m.version : 'not recorded';
    var facts = [];
    if (!m.versionRecorded) facts.push('a local artifact with no version');
    if (meta.architecture) facts.push(meta.architecture);
    if (meta.createdAt) facts.push('trained ' + meta.createdAt);
    if (meta.sha256) facts.push('weights sha256 ' + String(meta.sha256).slice(0, 12) + '…');
    $('model-artifact').textContent = facts.join(' · ');
    $('model-state').textContent = m.ready ? 'ready' : 'not ready';
    showEvaluation(m.evaluation, m.charts || []);
  }
  function showEvaluation(ev, charts) {
    if (!ev) return;
    $('eval-empty').hidden = true;
    var sum = $('eval-summary'); sum.textContent = '';
    [['accuracy', ev.accuracy], ['macro F1', ev.f1], ['precision', ev.precision], ['recall', ev.recall]].forEach(function (f) { if (typeof f[1] === 'number') sum.appendChild(figure(f[0], pct(f[1]))); });
    if (typeof ev.rocAuc === 'number') sum.appendChild(figure('ROC-AUC', ev.rocAuc.toFixed(3)));
    if (typeof ev.testImages === 'number') sum.appendChild(figure('test images', String(ev.testImages)));
    var per = ev.perClass && typeof ev.perClass === 'object' ? ev.perClass : null;
    if (per) {
      var body = $('per-class').tBodies[0]; body.textContent = '';
      Object.keys(per).forEach(function (c) {
        var r = per[c] || {}; var tr = el('tr');
        var th = el('th', c); th.setAttribute('scope', 'row'); tr.appendChild(th);
        ['precision', 'recall', 'f1'].forEach(function (k) { tr.appendChild(el('td', typeof r[k] === 'number' ? pct(r[k]) : '—')); });
        tr.appendChild(el('td', typeof r.support === 'number' ? String(r.support) : '—'));
        body.appendChild(tr);
      });
      $('per-class').hidden = false;
    }
    var box = $('eval-charts'); box.textContent = '';
    ['confusion', 'curves', 'reliability'].forEach(function (c) {
      if (charts.indexOf(c) < 0) return;
      var img = el('img'); img.id = 'chart-' + c; img.alt = CHART_ALT[c]; img.src = '/charts/' + c + '.svg'; box.appendChild(img);
    });
  }
  fetch('/api/model').then(function (r) { return r.json(); }).then(showModel).catch(function () { $('model-state').textContent = 'model information unavailable'; });

  var paused = false;
  function showLive(l) {
    $('live-requests').textContent = String(l.requests.total) + (l.requests.failed ? ' (' + l.requests.failed + ' failed)' : '');
    $('live-unsure').textContent = String(l.unsure);
    var fb = l.feedback; var n = fb.correct + fb.wrong;
    $('live-accuracy').textContent = fb.accuracy === null ? '—' : pct(fb.accuracy);
    $('live-feedback').textContent = (n === 0 ? 'no feedback yet' : n + (n === 1 ? ' prediction' : ' predictions') + ' confirmed or corrected through /feedback') + (l.baselineAccuracy === null ? '' : ' · test split accuracy ' + pct(l.baselineAccuracy));
    var labels = $('live-labels'); labels.textContent = '';
    var total = Object.keys(l.labels).reduce(function (a, c) { return a + l.labels[c]; }, 0);
    Object.keys(l.labels).forEach(function (c) { var k = l.labels[c]; labels.appendChild(bar(c, total ? k / total : 0, k + (total ? ' · ' + pct(k / total) : ''), false)); });
    $('live-confidence').src = '/charts/live-confidence.svg?t=' + Date.now();
    $('live-updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  }
  function refresh() {
    if (paused) return;
    fetch('/api/live').then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); }).then(showLive).catch(function () { $('live-updated').textContent = 'live figures unavailable'; });
  }
  $('live-toggle').addEventListener('click', function () {
    paused = !paused; this.setAttribute('aria-pressed', String(paused)); this.textContent = paused ? 'Resume updates' : 'Pause updates';
    if (!paused) refresh();
  });
  refresh();
  setInterval(refresh, refreshMs);

  function show(result) {
    $('error').textContent = '';
    $('label').textContent = result.label === null ? 'not sure' : result.label;
    $('confidence').textContent = 'confidence ' + pct(result.confidence);
    $('timing').textContent = 'answered in ' + result.timeMs + ' ms · request ' + result.requestId;
    var bars = $('bars'); bars.textContent = '';
    var names = Object.keys(result.probabilities).sort(function (a, b) { return result.probabilities[b] - result.probabilities[a]; });
    names.forEach(function (name, i) { var p = result.probabilities[name]; bars.appendChild(bar(name, p, pct(p), i === 0)); });
    refresh();
  }
  function send(file) {
    if (!file) return;
    var img = $('preview'); img.src = URL.createObjectURL(file); img.style.display = 'block';
    $('drop-text').textContent = file.name;
    $('label').textContent = '…'; $('error').textContent = '';
    var form = new FormData(); form.append('file', file, file.name);
    fetch('/predict', { method: 'POST', body: form }).then(function (r) {
      return r.json().then(function (body) { if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status)); return body; });
    }).then(show).catch(function (e) { $('label').textContent = '—'; $('bars').textContent = ''; $('error').textContent = e.message; });
  }
  $('file').addEventListener('change', function (e) { send(e.target.files[0]); });
  var drop = $('drop');
  drop.addEventListener('dragover', function (e) { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', function () { drop.classList.remove('over'); });
  drop.addEventListener('drop', function (e) { e.preventDefault(); drop.classList.remove('over'); send(e.dataTransfer.files[0]); });
})();
</script>
</body>
</html>
`;
