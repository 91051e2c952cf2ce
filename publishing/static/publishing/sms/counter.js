// The SMS editor's live segment count; the same rules as publishing/sms/segments.py, which the server
// counts with when the page is drawn.
(function () {
  const BASIC = new Set(Array.from("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"));
  const EXTENSION = new Set(Array.from("^{}\\[~]|€\f"));
  function length(text) {
    const chars = Array.from(text);
    const nonGsm = [...new Set(chars.filter((c) => !BASIC.has(c) && !EXTENSION.has(c)))];
    const gsm = nonGsm.length === 0;
    const [single, split] = gsm ? [160, 153] : [70, 67];
    const costs = chars.map((c) => (gsm ? (EXTENSION.has(c) ? 2 : 1) : (c.codePointAt(0) > 0xffff ? 2 : 1)));
    const units = costs.reduce((a, b) => a + b, 0);
    if (units === 0) return { gsm, units, segments: 0, per: single, nonGsm };
    if (units <= single) return { gsm, units, segments: 1, per: single, nonGsm };
    let segments = 1, room = split;
    for (const cost of costs) { if (cost > room) { segments += 1; room = split; } room -= cost; }
    return { gsm, units, segments, per: split, nonGsm };
  }
  document.querySelectorAll("textarea[data-sms-counter]").forEach((area) => {
    const out = document.getElementById(area.dataset.smsCounter);
    const show = () => {
      const l = length(area.value);
      out.textContent = `${l.units} ${l.gsm ? "characters" : "UCS-2 units"} · ${l.gsm ? "GSM-7" : "UCS-2"} · ` +
        `${l.segments} segment${l.segments === 1 ? "" : "s"} (${l.per} per segment)` +
        (l.nonGsm.length ? ` · not in the GSM alphabet, which makes every segment shorter: ${l.nonGsm.join(" ")}` : "");
    };
    area.addEventListener("input", show);
  });
})();
