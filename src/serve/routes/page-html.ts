/**
 * The try-it page: self-contained HTML, CSS and script (no build step, no CDN, no external
 * requests). It reads /api/model for the model's version and offline evaluation, and posts the
 * chosen or dropped photo to /predict as multipart/form-data. All server text is inserted with
 * textContent, never as HTML.
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
  body { max-width: 880px; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
  .muted { color: #5c6773; font-size: .9rem; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; margin-top: 1rem; }
  .card { background: #fff; border-radius: 10px; padding: 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  #drop { border: 2px dashed #98a2ad; border-radius: 10px; padding: 1.5rem; text-align: center; cursor: pointer; min-height: 180px; display: flex; flex-direction: column; align-items: center; justify-content: center; gap: .5rem; }
  #drop.over { border-color: #2f6fdf; background: #eef3fd; }
  #preview { max-width: 100%; max-height: 220px; border-radius: 6px; display: none; }
  #label { font-size: 2rem; font-weight: 700; text-transform: capitalize; }
  .bar { display: grid; grid-template-columns: 6rem 1fr 4rem; align-items: center; gap: .5rem; margin: .3rem 0; }
  .track { background: #e6e9ed; border-radius: 4px; height: 14px; overflow: hidden; }
  .fill { background: #2f6fdf; height: 100%; }
  .err { color: #b3261e; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  td { padding: .2rem .4rem; border-bottom: 1px solid #eceef1; }
  td:last-child { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>Kennel</h1>
<div class="muted">Model <b id="model-name">…</b> version <b id="model-version">…</b> · <span id="model-state">loading</span></div>
<div class="grid">
  <div class="card">
    <label id="drop" for="file">
      <img id="preview" alt="chosen photo">
      <span id="drop-text">Drop a photo here or click to choose one</span>
      <input id="file" type="file" accept="image/jpeg,image/png,image/webp" hidden>
    </label>
  </div>
  <div class="card" id="answer">
    <div class="muted">Answer</div>
    <div id="label">—</div>
    <div id="confidence" class="muted"></div>
    <div id="bars"></div>
    <div id="error" class="err"></div>
    <div id="timing" class="muted"></div>
  </div>
</div>
<div class="card" style="margin-top:1rem">
  <div class="muted">Offline evaluation of this version</div>
  <table id="evaluation"><tr><td>no evaluation metrics published</td><td></td></tr></table>
</div>
<script>
(function () {
  var $ = function (id) { return document.getElementById(id); };
  function pct(p) { return (Math.round(p * 1000) / 10).toFixed(1) + '%'; }
  function fmt(v) { return typeof v === 'number' ? (Math.abs(v) <= 1 && !Number.isInteger(v) ? v.toFixed(3) : String(v)) : String(v); }
  function row(table, k, v) { var tr = document.createElement('tr'); var a = document.createElement('td'); var b = document.createElement('td'); a.textContent = k; b.textContent = fmt(v); tr.appendChild(a); tr.appendChild(b); table.appendChild(tr); }
  function evaluationRows(obj, prefix, out) {
    Object.keys(obj || {}).forEach(function (k) {
      var v = obj[k];
      if (out.length >= 40) return;
      if (typeof v === 'number') out.push([prefix + k, v]);
      else if (v && typeof v === 'object' && !Array.isArray(v) && prefix.split('.').length < 3) evaluationRows(v, prefix + k + '.', out);
    });
    return out;
  }
  fetch('/api/model').then(function (r) { return r.json(); }).then(function (m) {
    $('model-name').textContent = m.name; $('model-version').textContent = m.version;
    $('model-state').textContent = m.ready ? 'ready' : 'not ready';
    var rows = evaluationRows(m.evaluation, '', []);
    if (rows.length) { var t = $('evaluation'); t.textContent = ''; rows.forEach(function (r) { row(t, r[0], r[1]); }); }
  }).catch(function () { $('model-state').textContent = 'model information unavailable'; });

  function show(result) {
    $('error').textContent = '';
    $('label').textContent = result.label === null ? 'not sure (' + result.confidence + ')' : result.label;
    $('confidence').textContent = 'confidence ' + pct(result.confidence);
    $('timing').textContent = 'answered in ' + result.timeMs + ' ms · request ' + result.requestId;
    var bars = $('bars'); bars.textContent = '';
    Object.keys(result.probabilities).forEach(function (name) {
      var p = result.probabilities[name];
      var line = document.createElement('div'); line.className = 'bar'; line.setAttribute('data-class', name);
      var n = document.createElement('span'); n.textContent = name;
      var track = document.createElement('div'); track.className = 'track';
      var fill = document.createElement('div'); fill.className = 'fill'; fill.style.width = (p * 100).toFixed(1) + '%';
      track.appendChild(fill);
      var v = document.createElement('span'); v.textContent = pct(p);
      line.appendChild(n); line.appendChild(track); line.appendChild(v); bars.appendChild(line);
    });
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
