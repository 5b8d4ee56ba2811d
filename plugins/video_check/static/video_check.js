/* The cloud verification page: the WebRTC call (the regulator offers, the enterprise answers; the server only
   relays the signalling), the connection state, ICE restart, snapshots and item results, recording, and the
   signature pad of the 承诺书. No library but signature_pad, served by the app. */
(function () {
  "use strict";
  var root = document.getElementById("video-check");
  if (!root) { return; }
  var cfg = JSON.parse(root.dataset.config), csrf = root.dataset.csrf, T = cfg.texts;
  var regulator = cfg.side === "regulator";
  var $ = function (id) { return document.getElementById(id); };
  var ws = null, pc = null, localStream = null, iceServers = [], icePolicy = "all", pending = [], recorder = null, chunks = [];
  // one id per peer connection the regulator offers: when both parties join at the same moment the regulator
  // may offer twice, and the answer or candidates of an older offer must not reach the newer connection
  var session = null;
  var restartTimer = null, hungUp = false;

  function post(url, form) {
    return fetch(url, {method: "POST", body: form, headers: {"X-CSRFToken": csrf}, credentials: "same-origin"})
      .then(function (r) { return r.json(); });
  }

  // ------------------------------------------------------------ connection state, always visible
  function setState(state) {
    var el = $("call-state");
    if (!el) { return; }
    el.dataset.state = state;
    el.textContent = T[state] || state;
    el.className = "label label-" + ({connected: "success", failed: "danger", refused: "danger",
      disconnected: "warning", "peer-left": "warning"}[state] || "default");
  }

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(message)); }
  }

  // ------------------------------------------------------------ the peer connection
  function newPeer(id) {
    if (pc) { pc.close(); }
    pending = [];
    session = id || Math.random().toString(36).slice(2);
    var mine = session;
    pc = new RTCPeerConnection({iceServers: iceServers, iceTransportPolicy: icePolicy});
    localStream.getTracks().forEach(function (t) { pc.addTrack(t, localStream); });
    pc.ontrack = function (e) { $("remote-video").srcObject = e.streams[0]; };
    pc.onicecandidate = function (e) {
      if (e.candidate) { send({type: "candidate", candidate: e.candidate, session: mine}); }
    };
    pc.onconnectionstatechange = function () {
      var s = pc.connectionState;
      setState(s);
      clearTimeout(restartTimer);
      if (s === "failed") { restartIce(); }
      // a short interruption often heals by itself; restart only when it lasts
      if (s === "disconnected") { restartTimer = setTimeout(restartIce, 4000); }
    };
    return pc;
  }

  function restartIce() {
    if (!pc || hungUp) { return; }
    if (regulator) { offer(true); } else { send({type: "restart"}); }
  }

  function offer(iceRestart) {
    return pc.createOffer(iceRestart ? {iceRestart: true} : {}).then(function (o) {
      return pc.setLocalDescription(o);
    }).then(function () { send({type: "offer", sdp: pc.localDescription, session: session}); });
  }

  function addCandidates() {
    while (pending.length && pc && pc.remoteDescription) { pc.addIceCandidate(pending.shift()).catch(function () {}); }
  }

  function onSignal(event) {
    var m = JSON.parse(event.data);
    if (m.type === "refused") { hungUp = true; setState("refused"); return; }
    if (m.type === "joined") {
      setState("waiting");
      if (regulator && m.peer) { newPeer(); offer(false); }
    } else if (m.type === "peer-joined") {
      if (regulator) { setState("connecting"); newPeer(); offer(false); }
      else if (pc) { pc.close(); pc = null; }
    } else if (m.type === "offer" && !regulator) {
      if (!pc || m.session !== session) { newPeer(m.session); }
      setState(pc.connectionState === "connected" ? "connected" : "connecting");
      pc.setRemoteDescription(m.sdp).then(function () { return pc.createAnswer(); })
        .then(function (a) { return pc.setLocalDescription(a); })
        .then(function () { send({type: "answer", sdp: pc.localDescription, session: m.session}); addCandidates(); });
    } else if (m.type === "answer" && regulator && pc && m.session === session) {
      pc.setRemoteDescription(m.sdp).then(addCandidates);
    } else if (m.type === "candidate" && pc && m.session === session) {
      pending.push(m.candidate); addCandidates();
    } else if (m.type === "restart" && regulator && pc) {
      offer(true);
    } else if (m.type === "recording") {
      $("recording-banner").hidden = !m.on;
    } else if (m.type === "peer-left") {
      setState("peer-left");
    } else if (m.type === "mode" || m.type === "items") {
      window.location.reload();
    }
  }

  function openSocket() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + cfg.signal;
    ws = new WebSocket(url);
    ws.onmessage = onSignal;
    ws.onclose = function (e) {
      if (e.code === 4403) { setState("refused"); return; }
      if (!hungUp) { setState("disconnected"); setTimeout(openSocket, 2000); }
    };
  }

  function startCall() {
    hungUp = false;
    setState("starting");
    navigator.mediaDevices.getUserMedia({video: true, audio: true}).then(function (stream) {
      localStream = stream;
      $("local-video").srcObject = stream;
      // the intranet TURN server's short-lived credentials, when one is configured; none on one LAN
      return post(cfg.ice, new FormData()).then(function (ice) {
        iceServers = ice.iceServers || [];
        icePolicy = iceServers.length && ice.iceTransportPolicy === "relay" ? "relay" : "all";
      }, function () { iceServers = []; icePolicy = "all"; }).then(openSocket);
    }, function (error) {
      setState("no-camera");
      $("call-state").title = String(error);
    });
  }

  function hangUp() {
    hungUp = true;
    if (recorder && recorder.state !== "inactive") { recorder.stop(); }
    if (pc) { pc.close(); pc = null; }
    if (ws) { ws.close(); ws = null; }
    if (localStream) { localStream.getTracks().forEach(function (t) { t.stop(); }); }
    setState("closed");
  }

  // for the page's own diagnostics (and the browser tests): the current peer connection
  // the page's peer, and the ICE restart a failed or lasting disconnected connection takes (for the tests)
  window.videoCheck = {peer: function () { return pc; }, restartIce: restartIce};

  if ($("call-start")) {
    $("call-start").addEventListener("click", startCall);
    $("call-hangup").addEventListener("click", hangUp);
  }

  // ------------------------------------------------------------ the regulator's items: snapshot + result
  function snapshot(preview) {
    var video = $("remote-video"), canvas = $("snapshot-canvas");
    if (!video.videoWidth) { return Promise.resolve(null); }
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    return new Promise(function (resolve) {
      canvas.toBlob(function (blob) {
        if (preview) { preview.src = URL.createObjectURL(blob); preview.hidden = false; }
        resolve(blob);
      }, "image/png");
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".check-item"), function (row) {
    var snap = row.querySelector(".item-snap"), save = row.querySelector(".item-save");
    if (!snap) { return; }
    var blob = null, message = row.querySelector(".item-message");
    snap.addEventListener("click", function () {
      snapshot(row.querySelector(".item-preview")).then(function (b) { blob = b; });
    });
    save.addEventListener("click", function () {
      var checked = row.querySelector("input[type=radio]:checked");
      var form = new FormData();
      form.append("code", row.dataset.code);
      form.append("result", checked ? checked.value : "");
      form.append("remark", row.querySelector(".item-remark").value);
      if (blob) { form.append("snapshot", blob, row.dataset.code + ".png"); }
      post(cfg.item, form).then(function (r) {
        message.textContent = r.ok ? T.saved : r.error;
        message.className = "item-message " + (r.ok ? "text-success" : "text-danger");
        if (r.ok) { row.dataset.result = r.result.result; }
      });
    });
  });

  // ------------------------------------------------------------ recording (announced to both parties)
  if ($("record-start")) {
    $("record-start").addEventListener("click", function () {
      var stream = $("remote-video").srcObject;
      if (!stream) { return; }
      chunks = [];
      recorder = new MediaRecorder(stream, {mimeType: "video/webm"});
      recorder.ondataavailable = function (e) { if (e.data.size) { chunks.push(e.data); } };
      recorder.onstop = function () {
        send({type: "recording", on: false});
        $("recording-banner").hidden = true;
        var form = new FormData();
        form.append("recording", new Blob(chunks, {type: "video/webm"}), "recording.webm");
        post(cfg.recording, form).then(function (r) {
          $("record-message").textContent = r.ok ? T.saved : r.error;
          $("record-message").dataset.saved = r.ok ? "1" : "0";
        });
      };
      recorder.start(1000);
      send({type: "recording", on: true});
      $("recording-banner").hidden = false;
      $("record-start").hidden = true; $("record-stop").hidden = false;
    });
    $("record-stop").addEventListener("click", function () {
      if (recorder) { recorder.stop(); }
      $("record-start").hidden = false; $("record-stop").hidden = true;
    });
  }

  // ------------------------------------------------------------ the 承诺书's signature pad
  var canvas = $("signature-pad");
  if (canvas && window.SignaturePad) {
    var pad = new window.SignaturePad(canvas, {backgroundColor: "rgb(255,255,255)"});
    $("signature-clear").addEventListener("click", function () { pad.clear(); });
    $("signature-submit").addEventListener("click", function () {
      if (pad.isEmpty()) { $("signature-message").textContent = T["signature-empty"]; return; }
      canvas.toBlob(function (blob) {
        var form = new FormData();
        form.append("signature", blob, "signature.png");
        var photo = $("operator-photo").files[0];
        if (photo) { form.append("operator_photo", photo, photo.name); }
        post(cfg.sign, form).then(function (r) {
          if (r.ok) { window.location.reload(); } else { $("signature-message").textContent = r.error; }
        });
      }, "image/png");
    });
  }
}());
