// stylecast studio: the page. Talks to the server's /api/ routes (stream/studio/server.py).
"use strict";
const token = new URLSearchParams(location.search).get("token");
const $ = (id) => document.getElementById(id);
let project = null;   // the open project, as GET /api/projects/ID gives it
let selected = null;  // the shot number shown below the strip

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token) headers.Authorization = "Bearer " + token;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, Object.assign({}, options, {headers}));
  const body = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error((body && body.error) || response.statusText);
  return body;
}
const withToken = (url) => token ? url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : url;

function say(text) { $("message").textContent = text || ""; }
async function guarded(fn) { try { say(""); await fn(); } catch (err) { say(err.message); } }

async function loadMedia(choose) {
  const media = await api("/api/media");
  $("media").replaceChildren(...media.media.map((name) => new Option(name, name)));
  if (choose) $("media").value = choose;
  $("folder-styles").replaceChildren(...[...media.pictures, ...media.models].map((name) => new Option(name)));
  $("shots-from").replaceChildren(new Option("find the shots", ""),
    ...media.shot_lists.map((name) => new Option("shots from " + name, name)));
  $("paint-image").replaceChildren(new Option("none", ""), ...media.pictures.map((name) => new Option(name, name)));
}

async function loadGallery() {
  const {styles} = await api("/api/styles");
  $("gallery").replaceChildren(...styles.map((name) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.style = name;
    button.title = name;
    const img = new Image();
    img.src = withToken(`/api/thumbs/${name}.jpg`);
    img.alt = name;
    button.append(img, name);
    button.onclick = () => { $("style").value = name; markGallery(); };
    return button;
  }));
}
function markGallery() {
  for (const b of $("gallery").children) b.classList.toggle("chosen", b.dataset.style === $("style").value);
}

async function openProject() {
  const {id} = await api("/api/projects", {method: "POST",
    json: {media: $("media").value, shots: $("shots-from").value || null}});
  $("finding").hidden = false;
  $("cut").hidden = $("shot").hidden = $("render").hidden = true;
  for (;;) {
    project = await api(`/api/projects/${id}`);
    $("find-progress").value = project.progress;
    if (project.state !== "finding") break;
    await new Promise((r) => setTimeout(r, 300));
  }
  $("finding").hidden = true;
  if (project.state === "failed") throw new Error(project.error);
  $("output").value = project.media.replace(/\.[^.]+$/, "") + "-styled.mp4";
  selected = 1;
  showProject();
}

function showProject() {
  $("cut").hidden = $("render").hidden = false;
  $("clip-name").textContent = `of ${project.media} (${project.frames} frames at ${project.rate} frames/s)`;
  for (const fmt of ["otio", "edl", "xml", "csv"]) $("export-" + fmt).href = withToken(`/api/projects/${project.id}/cut.${fmt}`);
  $("strip").replaceChildren(...project.shots.map((shot) => {
    const li = document.createElement("li");
    li.dataset.shot = shot.shot;
    li.classList.toggle("selected", shot.shot === selected);
    const img = new Image();
    img.src = withToken(`/api/projects/${project.id}/shots/${shot.shot}.jpg?f=${shot.first_frame}-${shot.last_frame}`);
    img.alt = `shot ${shot.shot}`;
    const text = document.createElement("div");
    text.innerHTML = `<b>${shot.shot}</b> <span class="tc">${shot.timecode_in} – ${shot.timecode_out}</span>` +
      `<div class="tc">frames ${shot.first_frame}–${shot.last_frame}</div>` +
      `<div class="look-name">${shot.look ? (shot.look.keyframe ? "painted" : shot.look.style || "") : ""}</div>`;
    li.append(img, text);
    if (shot.shot < project.shots.length) {
      const merge = document.createElement("button");
      merge.textContent = "merge with next";
      merge.className = "merge";
      merge.onclick = (event) => { event.stopPropagation(); guarded(() => recut("merge", {shot: shot.shot})); };
      li.append(merge);
    }
    li.onclick = () => { selected = shot.shot; showProject(); };
    return li;
  }));
  showShot();
}

function showShot() {
  const shot = project.shots[selected - 1];
  if (!shot) { $("shot").hidden = true; return; }
  $("shot").hidden = false;
  $("shot-number").textContent = shot.shot;
  $("shot-range").textContent = `${shot.timecode_in} – ${shot.timecode_out}, ${shot.frames} frames`;
  const look = shot.look || {};
  $("style").value = look.style || "";
  $("strength").value = look.strength ?? 1;
  $("stability").value = look.stability ?? 0.8;
  $("keep-colors").checked = !!look.keep_colors;
  $("keyframes").value = look.keyframes ? JSON.stringify(look.keyframes) : "";
  const painted = (look.keyframe || [])[0];
  $("paint-frame").value = painted ? painted.frame : Math.round((shot.first_frame + shot.last_frame) / 2);
  $("paint-image").value = painted ? painted.image : "";
  $("strength-value").textContent = $("strength").value;
  $("stability-value").textContent = $("stability").value;
  $("preview-box").hidden = true;
  markGallery();
}

async function recut(kind, body) {
  project = await api(`/api/projects/${project.id}/${kind}`, {method: "POST", json: body});
  selected = Math.min(selected, project.shots.length);
  showProject();
}

async function saveLook() {
  const look = {strength: Number($("strength").value), stability: Number($("stability").value),
                keep_colors: $("keep-colors").checked};
  if ($("paint-image").value) {
    look.keyframe = [{frame: Number($("paint-frame").value), image: $("paint-image").value}];
  } else if ($("style").value.trim()) look.style = $("style").value.trim();
  if ($("keyframes").value.trim()) look.keyframes = JSON.parse($("keyframes").value);
  project = await api(`/api/projects/${project.id}/looks/${selected}`, {method: "PUT", json: look});
  showProject();
}

async function preview() {
  await saveLook();
  $("preview").disabled = true;
  $("flicker").textContent = "rendering the preview…";
  $("preview-box").hidden = false;
  try {
    const p = await api(`/api/projects/${project.id}/shots/${selected}/preview`, {method: "POST", json: {seconds: 3}});
    $("before").src = withToken(p.before);
    $("after").src = withToken(p.after);
    $("preview-video").src = withToken(p.video);
    $("flicker").textContent = `${p.frames} frames in ${p.style}, stabilized; flicker ${p.flicker ?? "–"} ` +
      `(the source's own ${p.source_flicker ?? "–"})`;
  } finally { $("preview").disabled = false; }
}

async function render() {
  await api(`/api/projects/${project.id}/render`, {method: "POST",
    json: {output: $("output").value.trim(), codec: $("codec").value || null,
           from: $("range-from").value.trim() || null, to: $("range-to").value.trim() || null}});
  await showJobs();
}

async function showJobs() {
  const {jobs} = await api("/api/jobs");
  $("jobs").tBodies[0].replaceChildren(...jobs.slice().reverse().map((job) => {
    const tr = document.createElement("tr");
    tr.dataset.job = job.id;
    tr.dataset.state = job.state;
    const eta = job.eta_s != null ? `${Math.round(job.eta_s)} s` : "";
    tr.innerHTML = `<td>${job.id}</td><td>${job.output}</td><td class="state">${job.state}` +
      `${job.phase ? " (" + job.phase + ")" : ""}${job.error ? ": " + job.error : ""}</td><td><progress max="1" value="${job.progress}"></progress> ` +
      `${Math.round(job.progress * 100)}%</td><td>${eta}</td><td></td>`;
    const cell = tr.lastElementChild;
    if (job.state === "done") {
      const a = document.createElement("a");
      a.href = withToken(`/api/jobs/${job.id}/download`);
      a.textContent = "download";
      a.className = "download";
      cell.append(a);
    } else if (job.state === "queued" || job.state === "running") {
      const b = document.createElement("button");
      b.textContent = "cancel";
      b.className = "cancel";
      b.onclick = () => guarded(() => api(`/api/jobs/${job.id}/cancel`, {method: "POST"}).then(showJobs));
      cell.append(b);
    }
    return tr;
  }));
}

async function upload() {
  const file = $("upload").files[0];
  if (!file) return;
  say(`uploading ${file.name}…`);
  await api(`/api/upload?name=${encodeURIComponent(file.name)}`, {method: "POST", body: file});
  await loadMedia(file.name);
  say(`${file.name} is in the folder`);
}

$("open").onclick = () => guarded(openProject);
$("split").onclick = () => guarded(() => recut("split", {frame: Number($("split-frame").value)}));
$("save-look").onclick = () => guarded(saveLook);
$("preview").onclick = () => guarded(preview);
$("render-go").onclick = () => guarded(render);
$("upload").onchange = () => guarded(upload);
$("style").oninput = markGallery;
for (const id of ["strength", "stability"]) $(id).oninput = () => { $(id + "-value").textContent = $(id).value; };
guarded(async () => { await loadMedia(); await loadGallery(); await showJobs(); });
setInterval(() => { if (!$("render").hidden) showJobs().catch(() => {}); }, 1000);
