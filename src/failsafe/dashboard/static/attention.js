// Telling an officer who is looking at another window that something arrived (issue 14): a
// desktop notification (the Notification API, permission asked once and remembered by the
// browser) and a short sound (alert.wav, shipped with the page; muting is remembered in this
// browser) for new critical and high alerts, and the count of unseen alerts in the tab title.
// A notification carries no personal data (it shows on the desktop, where anyone may read it):
// the alert's number, severity, notice and place only.
"use strict";

const ATTENTION_SEVERITIES = new Set(["critical", "high"]);
const MUTED_KEY = "failsafe.muted";
const ASKED_KEY = "failsafe.notifications-asked";
const BASE_TITLE = "failsafe — bureau dashboard";

const attention = {
  audio: null,
  played: 0,
  notified: 0,
};

function isMuted() {
  return localStorage.getItem(MUTED_KEY) === "1";
}

function renderMute() {
  const button = document.querySelector("#mute");
  if (!button) return;
  const muted = isMuted();
  button.setAttribute("aria-pressed", muted ? "true" : "false");
  button.textContent = muted ? "Sound off" : "Sound on";
  button.dataset.played = String(attention.played);
}

function toggleMute() {
  localStorage.setItem(MUTED_KEY, isMuted() ? "0" : "1");
  renderMute();
}

function renderNotifyButton() {
  const button = document.querySelector("#notify");
  if (!button) return;
  const supported = "Notification" in window;
  button.hidden = !supported || Notification.permission !== "default";
}

// Ask once: on the first sign-in in this browser, or when the officer presses the button.
async function askNotificationPermission(fromButton) {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  if (!fromButton && localStorage.getItem(ASKED_KEY) === "1") return;
  localStorage.setItem(ASKED_KEY, "1");
  try {
    await Notification.requestPermission();
  } catch {
    // An old browser without the promise form, or a refusal: the page works without.
  }
  renderNotifyButton();
}

function setUnseenTitle(count) {
  document.title = count > 0 ? `(${count}) ${BASE_TITLE}` : BASE_TITLE;
}

// Called for each alert that arrives live (not for the first load): rings and notifies for
// critical and high ones.
function announce(alert, summary, onOpen) {
  if (!ATTENTION_SEVERITIES.has(alert.severity)) return;
  if (!isMuted()) {
    if (!attention.audio) attention.audio = new Audio("/dashboard/alert.wav");
    attention.audio.currentTime = 0;
    const played = attention.audio.play();
    if (played && played.catch) played.catch(() => {}); // autoplay refused until a click
    attention.played += 1;
    renderMute();
  }
  if ("Notification" in window && Notification.permission === "granted") {
    try {
      const n = new Notification(`${alert.severity.toUpperCase()} alert #${alert.id}`, {
        body: summary,
        tag: `failsafe-alert-${alert.id}`,
      });
      n.addEventListener("click", () => {
        window.focus();
        onOpen(alert.id);
        n.close();
      });
      attention.notified += 1;
      document.body.dataset.notified = String(attention.notified);
    } catch {
      // Some platforms allow notifications only from a service worker: the sound and title stay.
    }
  }
}
