// The cloud register's discovery upload: the log file goes to the API as the request body (no
// form encoding, so a large file streams), then the page shows the result.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("discovery-form");
  if (!form) return;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = document.getElementById("discovery-file");
    const status = document.getElementById("discovery-status");
    const file = input.files && input.files[0];
    if (!file) return;
    const csrf = document.querySelector("meta[name=csrf-token]").content;
    const format = document.getElementById("discovery-format").value;
    status.textContent = form.dataset.busy;
    const r = await fetch(`/api/v1/cloud/discovery?format=${encodeURIComponent(format)}&name=${encodeURIComponent(file.name)}`, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/octet-stream" },
      body: file,
    });
    if (r.ok) {
      window.location.reload();
    } else {
      const body = await r.json().catch(() => ({}));
      status.textContent = (body.error && body.error.message) || r.statusText;
    }
  });
});
