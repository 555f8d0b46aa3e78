// mmfocus app: upload -> job -> poll -> show. No framework, no network but
// this server (the page's Content-Security-Policy enforces it).
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  let info = null;
  let shown = null; // the view on screen: {view, kind}
  let busy = false;

  function setState(s) { document.body.dataset.state = s; }
  function el(tag, attrs, text) {
    const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4))
      : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(x, d) { return x === null || x === undefined ? '-' : x.toFixed(d); }
  function mapKind() { return document.querySelector('input[name=mapkind]:checked').value; }
  function opacity() { return $('opacity').value / 100; }

  function showError(msg) {
    $('error').textContent = msg;
    $('error').hidden = false;
    $('progress').textContent = '';
    setState('error');
    busy = false;
  }

  function clearOutput() {
    $('error').hidden = true;
    $('error').textContent = '';
    $('result').hidden = true;
    $('faces').replaceChildren();
    $('scene-boxes').replaceChildren();
    $('curve').replaceChildren();
    shown = null;
  }

  async function loadInfo() {
    try {
      const r = await fetch('/api/info');
      info = await r.json();
    } catch (e) {
      showError('the app server does not answer: ' + e);
      return;
    }
    $('model').textContent = 'model: ' + info.config + ' · checkpoint: ' +
      info.checkpoint + ' · device: ' + info.device + ' · fake when score ≥ ' +
      info.threshold;
    $('limits').textContent = 'up to ' + info.max_upload_mb + ' MB; videos up to ' +
      info.max_video_seconds + ' s (' + info.max_video_frames +
      ' frames scored, evenly spread)';
    const demo = $('demo');
    for (const name of info.demo) {
      const b = el('button', {type: 'button', title: name, 'data-name': name});
      b.appendChild(el('img', {src: '/api/demo/' + encodeURIComponent(name), alt: name}));
      b.addEventListener('click', () => submit(null, name));
      demo.appendChild(b);
    }
    if (!info.demo.length) $('demo-box').hidden = true;
    setState('idle');
  }

  function ext(name) {
    const i = name.lastIndexOf('.');
    return i < 0 ? '' : name.slice(i).toLowerCase();
  }

  async function submit(file, demoName) {
    if (busy) return;
    clearOutput();
    let req;
    if (file) {
      const e = ext(file.name);
      if (!info.image_exts.includes(e) && !info.video_exts.includes(e)) {
        showError(file.name + ': not a file type this app takes; choose an image (' +
          info.image_exts.join(', ') + ') or a video (' + info.video_exts.join(', ') + ')');
        return;
      }
      if (file.size > info.max_upload_bytes) {
        showError(file.name + ' is larger than the upload limit of ' +
          info.max_upload_mb + ' MB (start the app with --max-upload-mb to change it)');
        return;
      }
      req = fetch('/api/jobs', {method: 'POST', body: file,
        headers: {'X-Filename': encodeURIComponent(file.name).replace(/%20/g, ' ')}});
    } else {
      req = fetch('/api/jobs?demo=' + encodeURIComponent(demoName), {method: 'POST'});
    }
    busy = true;
    setState('running');
    $('progress').textContent = 'sending ' + (file ? file.name : demoName) + '...';
    let r, body;
    try {
      r = await req;
      body = await r.json();
    } catch (e) {
      showError('upload failed: ' + e);
      return;
    }
    if (!r.ok) { showError(body.error || ('error ' + r.status)); return; }
    poll(body.id);
  }

  function progressText(st) {
    const p = st.progress;
    let t = 'analysing ' + st.name;
    if (st.kind === 'video' && p.done) {
      t += ': frame ' + p.done + (p.total ? ' of ' + p.total : '');
      if (p.rate) t += ' · ' + p.rate.toFixed(1) + ' frames/s';
      if (p.eta !== null && p.eta !== undefined) t += ' · about ' + Math.ceil(p.eta) + ' s left';
    } else if (st.state === 'queued') {
      t += ' (waiting for the files before it)';
    } else {
      t += '...';
    }
    return t;
  }

  async function poll(id) {
    let st;
    try {
      const r = await fetch('/api/jobs/' + id);
      st = await r.json();
      if (!r.ok) { showError(st.error || ('error ' + r.status)); return; }
    } catch (e) {
      showError('the app server does not answer: ' + e);
      return;
    }
    if (st.state === 'error') { showError(st.error); return; }
    if (st.state !== 'done') {
      $('progress').textContent = progressText(st);
      setTimeout(() => poll(id), 250);
      return;
    }
    const p = st.progress;
    $('progress').textContent = st.name + ': done in ' + fmt(p.elapsed, 1) + ' s' +
      (st.kind === 'video' && p.rate ? ' (' + p.rate.toFixed(1) + ' frames/s)' : '');
    show(st.result);
    busy = false;
    setState('done');
  }

  function labelSpan(label, text) {
    return el('span', {class: label === 'fake' ? 'fake' : 'real'}, text);
  }

  function show(res) {
    const sum = $('summary');
    sum.replaceChildren();
    const what = res.kind === 'video' ? 'video score (mean over frames) ' : 'image score (max over faces) ';
    sum.appendChild(document.createTextNode(res.name + ': ' + what));
    const score = el('span', {id: 'score', 'data-score': String(res.score)}, fmt(res.score, 3));
    sum.appendChild(score);
    sum.appendChild(document.createTextNode(' '));
    sum.appendChild(labelSpan(res.label, res.label));
    if (res.grey) sum.appendChild(el('span', {class: 'muted'}, ' (grey image: scores not calibrated)'));
    const view = res.kind === 'video' ? res.view.top_frame : res.view;
    $('curve-box').hidden = res.kind !== 'video';
    if (res.kind === 'video') drawCurve(res.view, res.threshold);
    $('result').hidden = false;
    if (!view) { $('scene').hidden = true; return; }
    $('scene').hidden = false;
    shown = view;
    const fakeRadio = document.querySelector('input[name=mapkind][value=map_fake]');
    fakeRadio.disabled = view.maps_identical;
    if (view.maps_identical) document.querySelector('input[name=mapkind][value=map]').checked = true;
    $('maps-note').hidden = !view.maps_identical;
    $('scene-image').src = view.image;
    $('scene-caption').textContent = res.kind === 'video'
      ? 'the most fake frame: #' + view.frame_idx + ' at ' + view.t.toFixed(2) + ' s (' +
        (res.stride === 1 ? 'every frame' : '1 frame in ' + res.stride) + ' scored)'
      : view.faces.length + ' face(s) scored' +
        (view.rejected_faces.length ? ', ' + view.rejected_faces.length + ' rejected' : '');
    drawBoxes(view);
    drawFaces(view);
    applyMaps();
  }

  function drawBoxes(view) {
    const svg = $('scene-boxes');
    svg.replaceChildren();
    svg.setAttribute('viewBox', '0 0 ' + view.width + ' ' + view.height);
    const stroke = Math.max(2, view.width / 300);
    const font = Math.max(12, view.width / 45);
    view.faces.forEach((f, i) => {
      const [x1, y1, x2, y2] = f.box;
      const col = f.label === 'fake' ? '#e0223f' : '#1fa34f';
      svg.appendChild(el('svg:rect', {x: x1, y: y1, width: x2 - x1, height: y2 - y1,
        fill: 'none', stroke: col, 'stroke-width': stroke, class: 'box'}));
      svg.appendChild(el('svg:text', {x: x1, y: Math.max(font, y1 - stroke * 2),
        fill: col, 'font-size': font, 'font-weight': 'bold', stroke: '#fff',
        'stroke-width': font / 12, 'paint-order': 'stroke'},
        (i + 1) + ' ' + f.label + ' ' + f.score.toFixed(2)));
    });
    for (const r of view.rejected_faces) {
      const [x1, y1, x2, y2] = r.box;
      svg.appendChild(el('svg:rect', {x: x1, y: y1, width: x2 - x1, height: y2 - y1,
        fill: 'none', stroke: '#8a93a3', 'stroke-width': stroke,
        'stroke-dasharray': stroke * 3, class: 'rejected'}));
    }
  }

  function drawFaces(view) {
    const box = $('faces');
    box.replaceChildren();
    view.faces.forEach((f, i) => {
      const card = el('figure', {class: 'face', 'data-score': String(f.score)});
      const pair = el('div', {class: 'pair'});
      pair.appendChild(el('img', {class: 'plain crop', src: f.crop, alt: 'face ' + (i + 1)}));
      const stack = el('div', {class: 'stack'});
      stack.appendChild(el('img', {class: 'crop', src: f.crop, alt: ''}));
      stack.appendChild(el('img', {class: 'layer face-map', alt: 'map of face ' + (i + 1)}));
      pair.appendChild(stack);
      card.appendChild(pair);
      const cap = el('figcaption');
      cap.appendChild(document.createTextNode('face ' + (i + 1) + ': '));
      cap.appendChild(labelSpan(f.label, f.label + ' ' + f.score.toFixed(3)));
      cap.appendChild(el('span', {class: 'muted'}, ' · detector ' + f.det_score.toFixed(2) +
        (f.grey ? ' · grey' : '')));
      card.appendChild(cap);
      box.appendChild(card);
    });
  }

  function applyMaps() {
    const kind = mapKind();
    const a = opacity();
    $('opacity-value').textContent = Math.round(a * 100) + ' %';
    if (!shown) return;
    const layer = $('scene-layer');
    if (shown.layers[kind]) { layer.src = shown.layers[kind]; layer.hidden = false; }
    else { layer.removeAttribute('src'); layer.hidden = true; }
    layer.style.opacity = a;
    document.querySelectorAll('#faces .face').forEach((card, i) => {
      const img = card.querySelector('.face-map');
      img.src = shown.faces[i][kind];
      img.style.opacity = a;
    });
  }

  function drawCurve(video, thr) {
    const svg = $('curve');
    svg.replaceChildren();
    const W = 640, H = 180, L = 36, R = 8, T = 8, B = 24;
    const fr = video.frames;
    const tmax = Math.max(fr.length ? fr[fr.length - 1].t : 0, 1e-6);
    const x = (t) => L + (W - L - R) * t / tmax;
    const y = (s) => T + (H - T - B) * (1 - s);
    svg.appendChild(el('svg:rect', {x: L, y: T, width: W - L - R, height: H - T - B,
      fill: '#fbfcfe', stroke: '#cfd5df'}));
    for (const v of [0, 0.5, 1]) {
      svg.appendChild(el('svg:text', {x: 4, y: y(v) + 4, 'font-size': 11, fill: '#5b6475'}, v.toFixed(1)));
    }
    svg.appendChild(el('svg:line', {x1: L, x2: W - R, y1: y(thr), y2: y(thr),
      stroke: '#8a93a3', 'stroke-dasharray': '4 3', class: 'threshold'}));
    svg.appendChild(el('svg:text', {x: W / 2 - 40, y: H - 6, 'font-size': 11, fill: '#5b6475'},
      'time (s), 0 to ' + tmax.toFixed(1)));
    let seg = [];
    const flush = () => {
      if (seg.length) svg.appendChild(el('svg:polyline', {points: seg.join(' '),
        fill: 'none', stroke: '#2f6fdf', 'stroke-width': 2, class: 'scores'}));
      seg = [];
    };
    for (const f of fr) {
      if (f.score === null) { flush(); continue; }
      seg.push(x(f.t).toFixed(1) + ',' + y(f.score).toFixed(1));
      svg.appendChild(el('svg:circle', {cx: x(f.t), cy: y(f.score), r: 2.5,
        fill: f.score >= thr ? '#e0223f' : '#1fa34f', class: 'frame',
        'data-score': String(f.score)}));
    }
    flush();
  }

  function init() {
    const drop = $('drop');
    $('file').addEventListener('change', (e) => {
      if (e.target.files.length) submit(e.target.files[0], null);
      e.target.value = '';
    });
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      if (e.dataTransfer.files.length) submit(e.dataTransfer.files[0], null);
    });
    $('opacity').addEventListener('input', applyMaps);
    document.querySelectorAll('input[name=mapkind]').forEach(
      (r) => r.addEventListener('change', applyMaps));
    loadInfo();
  }
  init();
})();
