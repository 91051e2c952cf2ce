// AICMO web-push subscription, embedded by the marketing site:
// <script src=".../static/crm/push/subscribe.js" data-key="VAPID public key" data-endpoint=".../contacts/push/subscriptions/"
//         data-contact="signed contact token (optional)" data-service-worker="/push-sw.js"></script>
// A button with data-aicmo-push asks for permission when clicked: browsers allow the prompt only after a gesture.
(function () {
  const me = document.currentScript;
  const settings = me.dataset;
  const worker = settings.serviceWorker || "/push-sw.js";
  function keyBytes(base64url) {
    const padded = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }
  async function post(path, body) {
    const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                         body: JSON.stringify(body) });
    return response.ok;
  }
  async function subscribe() {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) return false;
    const registration = await navigator.serviceWorker.register(worker);
    if ((await Notification.requestPermission()) !== "granted") return false;
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: keyBytes(settings.key) });
    return post(settings.endpoint, { ...subscription.toJSON(), contact: settings.contact || "" });
  }
  async function unsubscribe() {
    const registration = await navigator.serviceWorker.getRegistration(worker);
    const subscription = registration && (await registration.pushManager.getSubscription());
    if (!subscription) return true;
    await subscription.unsubscribe();
    return post(settings.endpoint.replace(/subscriptions\/$/, "unsubscribe/"), { endpoint: subscription.endpoint });
  }
  window.aicmoPush = { subscribe, unsubscribe };
  document.querySelectorAll("[data-aicmo-push]").forEach((button) =>
    button.addEventListener("click", () => (button.dataset.aicmoPush === "off" ? unsubscribe() : subscribe())));
})();
