// Body of the citation panel's js_on_load (gr.HTML; `trigger` sends an event to the server).
// Clicks on citations (in the panel, or on [n] markers in the chat) send the span to the
// server, which answers with the article from the loaded index. The document-level
// listener is installed once; it always calls the newest `trigger`.
window.__ragOpenCite = (detail) => trigger('click', detail);
if (!window.__ragCiteHook) {
  window.__ragCiteHook = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#cite:"]');
    if (!link) return;
    event.preventDefault();
    const parts = link.getAttribute('href').split(':');
    if (parts.length !== 4) return;
    window.__ragOpenCite({source: decodeURIComponent(parts[1]), start: Number(parts[2]), end: Number(parts[3])});
  });
}
