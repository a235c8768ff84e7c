// stylecast demo page: the camera goes to the server over WebRTC, the stylized stream comes back.
// Query options: ?autostart=1 starts at once; ?style=NAME picks the style; ?token=T is the server's
// token (printed by `stylecast serve`); ?camera=probe sends a synthetic scene with a time code drawn
// in, run at strength 0 so the code survives, to measure camera-to-screen latency on the page itself.
"use strict";

const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
const probe = params.get("camera") === "probe";
const $ = (id) => document.getElementById(id);
const ui = { output: $("output"), preview: $("preview"), overlay: $("overlay"), status: $("status"),
             start: $("start"), stop: $("stop"), strength: $("strength"), upload: $("upload"), styles: $("styles"),
             grab: $("grab"), grabbed: $("grabbed"), painting: $("painting"), paintStatus: $("paint-status") };

// What tests and benchmarks read: the state, the latest figures and the measured latencies.
const app = window.stylecast = { state: "idle", pc: null, channel: null, style: params.get("style") || "",
                                 server: {}, metrics: {}, latency: [], errors: [] };

function setState(state, text) {
  app.state = state;
  document.body.dataset.state = state;
  if (text) ui.status.textContent = text;
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  const reply = await fetch(path, { ...options, headers });
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(body.error || `${path}: HTTP ${reply.status}`);
  return body;
}

// ---- styles ------------------------------------------------------------------------------------
async function loadStyles() {
  const { default: fallback, styles } = await api("/api/styles");
  if (!app.style) app.style = fallback;
  for (const { name, thumb } of styles) {
    const button = document.createElement("button");
    button.dataset.style = name;
    button.setAttribute("role", "option");
    const img = document.createElement("img");
    img.src = thumb + (token ? `?token=${encodeURIComponent(token)}` : "");
    img.alt = name;
    const label = document.createElement("span");
    label.textContent = name;
    button.append(img, label);
    button.onclick = () => chooseStyle(name);
    ui.styles.append(button);
  }
  markStyle(app.style);
}

function markStyle(name) {
  for (const b of ui.styles.children) b.setAttribute("aria-selected", String(b.dataset.style === name));
}

function send(message) {
  if (app.channel && app.channel.readyState === "open") app.channel.send(JSON.stringify(message));
}

function chooseStyle(name) {
  app.style = name;
  markStyle(name);
  send({ style: name });
}

ui.strength.oninput = () => send({ strength: Number(ui.strength.value) });

ui.upload.onchange = async () => {
  const file = ui.upload.files[0];
  if (!file) return;
  try {
    const { style } = await api("/api/style-image", { method: "POST", body: file });
    chooseStyle(style);
  } catch (err) {
    fail(err);
  }
};

// ---- a painting of a frame: grab the camera's frame, paint it anywhere, upload the painting --------
ui.grab.onclick = async () => {
  const video = ui.preview;
  const canvas = Object.assign(document.createElement("canvas"), { width: video.videoWidth, height: video.videoHeight });
  canvas.getContext("2d").drawImage(video, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  try {
    app.grabbedFrame = (await api("/api/style-image", { method: "POST", body: blob })).style;
    ui.grabbed.href = URL.createObjectURL(blob);
    ui.grabbed.hidden = false;
    ui.painting.disabled = false;
    ui.paintStatus.textContent = "Save frame.png, paint over it, then upload the painting.";
  } catch (err) {
    fail(err);
  }
};

ui.painting.onchange = async () => {
  const file = ui.painting.files[0];
  if (!file || !app.grabbedFrame) return;
  try {
    const { style } = await api("/api/style-image", { method: "POST", body: file });
    send({ paint: { frame: app.grabbedFrame, painting: style } });
  } catch (err) {
    fail(err);
  }
};

function showPainting(p) {
  app.painting = p;
  const left = p.seconds_left == null ? "" : p.seconds_left < 90 ? `, about ${Math.round(p.seconds_left)} s left`
    : `, about ${Math.round(p.seconds_left / 60)} min left`;
  ui.paintStatus.textContent = p.state === "training"
    ? `Training ${Math.round(100 * (p.done || 0))}% (step ${p.steps}${left}; your style until it is ready)`
    : p.state === "ready" ? "Your painting is live." : `Training failed: ${p.error}`;
}

// ---- the camera ----------------------------------------------------------------------------------
function probeCamera() {
  // A moving, textured scene with the time (ms, 16 bits) drawn as 16 black/white blocks on top.
  const canvas = Object.assign(document.createElement("canvas"), { width: 640, height: 360 });
  const g = canvas.getContext("2d");
  const draw = () => {
    const t = performance.now();
    for (let i = 0; i < 8; i++) {
      g.fillStyle = `hsl(${(i * 45 + t / 40) % 360} 70% 50%)`;
      g.fillRect(i * 80, 40, 80, 320);
    }
    g.fillStyle = "#fff";
    g.beginPath();
    g.arc(320 + 200 * Math.sin(t / 700), 200 + 100 * Math.cos(t / 900), 50, 0, 2 * Math.PI);
    g.fill();
    const stamp = Math.floor(t) & 0xffff;
    for (let bit = 0; bit < 16; bit++) {
      g.fillStyle = (stamp >> bit) & 1 ? "#fff" : "#000";
      g.fillRect(bit * 40, 0, 40, 40);
    }
  };
  setInterval(draw, 1000 / 30);
  draw();
  return canvas.captureStream(30);
}

function readProbe() {
  // Read the time code back from each displayed frame: camera-to-screen latency, measured here.
  const canvas = Object.assign(document.createElement("canvas"), { width: 640, height: 40 });
  const g = canvas.getContext("2d", { willReadFrequently: true });
  const onFrame = (now) => {
    if (ui.output.videoWidth) {
      g.drawImage(ui.output, 0, 0, ui.output.videoWidth, ui.output.videoWidth * 40 / 640, 0, 0, 640, 40);
      const row = g.getImageData(0, 0, 640, 40).data;
      let stamp = 0;
      for (let bit = 0; bit < 16; bit++) {
        const at = (20 * 640 + bit * 40 + 20) * 4;
        if (row[at] + row[at + 1] + row[at + 2] > 3 * 128) stamp |= 1 << bit;
      }
      const ms = ((Math.floor(now) & 0xffff) - stamp + 0x10000) & 0xffff;
      if (ms < 5000) app.latency.push(ms);
      if (app.latency.length > 600) app.latency.shift();
    }
    if (app.state === "streaming") ui.output.requestVideoFrameCallback(onFrame);
  };
  ui.output.requestVideoFrameCallback(onFrame);
}

// ---- the call ------------------------------------------------------------------------------------
function iceGathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 3000);  // send what was gathered by then
  });
}

async function start() {
  ui.start.disabled = true;
  setState("connecting", "Connecting…");
  try {
    const camera = probe ? probeCamera()
      : await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360, frameRate: 30 }, audio: false });
    ui.preview.srcObject = camera;
    const pc = app.pc = new RTCPeerConnection({ iceServers: [] });
    app.channel = pc.createDataChannel("control");
    app.channel.onmessage = (event) => onServerMessage(JSON.parse(event.data));
    app.channel.onopen = () => { if (probe) send({ strength: 0, stability: 0 }); };
    for (const track of camera.getVideoTracks()) {
      const sender = pc.addTrack(track, camera);
      // The server is the bottleneck, not the browser's encoder: keep the camera's size, let the rate adapt.
      const parameters = sender.getParameters();
      parameters.degradationPreference = "maintain-resolution";
      await sender.setParameters(parameters).catch(() => {});
    }
    pc.ontrack = (event) => { ui.output.srcObject = new MediaStream([event.track]); };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected") {
        setState("streaming", "Streaming. Pick a style on the right.");
        if (probe) readProbe();
      } else if (["failed", "closed", "disconnected"].includes(pc.connectionState)) {
        setState("closed", `Call ${pc.connectionState}.`);
      }
    };
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    const answer = await api("/api/offer", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sdp: pc.localDescription.sdp, type: pc.localDescription.type, style: app.style }),
    });
    app.session = answer.session;
    await pc.setRemoteDescription(answer);
    ui.stop.disabled = false;
    ui.grab.disabled = false;
    watchStats(pc);
  } catch (err) {
    fail(err);
  }
}

// Say goodbye before closing, so the server frees this viewer's place at once (a reload offers again
// right away): over the data channel, and as a beacon, which the browser sends even while the page goes.
function goodbye() {
  if (app.channel && app.channel.readyState === "open") app.channel.send(JSON.stringify({ bye: true }));
  if (app.session) {
    navigator.sendBeacon(`/api/sessions/${app.session}/bye` + (token ? `?token=${encodeURIComponent(token)}` : ""));
    app.session = null;
  }
}

function stop() {
  goodbye();
  if (app.pc) app.pc.close();
  for (const video of [ui.preview, ui.output]) {
    if (video.srcObject) video.srcObject.getTracks().forEach((t) => t.stop());
    video.srcObject = null;
  }
  ui.stop.disabled = true;
  ui.start.disabled = false;
  setState("closed", "Stopped.");
}

function fail(err) {
  app.errors.push(String(err.message || err));
  setState("error", `Error: ${err.message || err}`);
  ui.start.disabled = false;
}

function onServerMessage(message) {
  if (message.stats) app.server = message.stats;
  if (message.state) app.serverState = message.state;
  if (message.painting) showPainting(message.painting);
  if (message.error) app.errors.push(message.error), ui.status.textContent = `Server: ${message.error}`;
}

// ---- figures -------------------------------------------------------------------------------------
function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))];
}

function watchStats(pc) {
  let last = null;
  const timer = setInterval(async () => {
    if (pc.connectionState === "closed") return clearInterval(timer);
    const m = {};
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") {
        m.framesDecoded = r.framesDecoded;
        m.decodeMs = 1000 * r.totalDecodeTime / Math.max(1, r.framesDecoded);
        m.jitterMs = 1000 * r.jitterBufferDelay / Math.max(1, r.jitterBufferEmittedCount);
        m.width = r.frameWidth;
      }
      if (r.type === "outbound-rtp" && r.kind === "video") m.encodeMs = 1000 * r.totalEncodeTime / Math.max(1, r.framesEncoded);
      if (r.type === "candidate-pair" && r.nominated && r.currentRoundTripTime !== undefined) m.rttMs = 1000 * r.currentRoundTripTime;
    });
    const now = performance.now();
    if (last && m.framesDecoded !== undefined) m.fps = 1000 * (m.framesDecoded - last.frames) / (now - last.time);
    last = { frames: m.framesDecoded || 0, time: now };
    if (app.latency.length) {
      m.latencyP50 = percentile(app.latency, 50);
      m.latencyP95 = percentile(app.latency, 95);
    }
    app.metrics = m;
    const s = app.server;
    ui.overlay.textContent = [
      `received ${(m.fps ?? 0).toFixed(1)} fps  ${m.width || "?"} px wide`,
      s.latency_p50_ms !== undefined ? `server ${s.latency_p50_ms} ms (stylize ${s.engine_ms} ms), dropped ${s.dropped}` : "",
      s.flicker !== undefined && s.flicker !== null ? `flicker ${s.flicker} (camera ${s.source_flicker})` : "",
      `decode ${(m.decodeMs ?? 0).toFixed(1)} ms  jitter buffer ${(m.jitterMs ?? 0).toFixed(0)} ms  rtt ${(m.rttMs ?? 0).toFixed(0)} ms`,
      m.latencyP50 !== undefined ? `camera→screen p50 ${m.latencyP50} ms  p95 ${m.latencyP95} ms` : "",
    ].filter(Boolean).join("\n");
  }, 1000);
}

ui.start.onclick = start;
ui.stop.onclick = stop;
addEventListener("pagehide", () => { goodbye(); if (app.pc) app.pc.close(); });

loadStyles().then(() => {
  if (params.get("autostart") === "1") start();
}).catch(fail);
