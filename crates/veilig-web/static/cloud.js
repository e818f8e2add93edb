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

// An evidence document: sent as the body, with the question and date in the address.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("evidence-file-form");
  if (!form) return;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = document.getElementById("evf-file").files[0];
    const status = document.getElementById("evidence-status");
    if (!file) return;
    const csrf = document.querySelector("meta[name=csrf-token]").content;
    const q = new URLSearchParams({
      question: document.getElementById("evf-question").value,
      dated: document.getElementById("evf-dated").value,
      file_name: file.name,
    });
    status.textContent = form.dataset.busy;
    const r = await fetch(`/api/v1/cloud/services/${form.dataset.service}/evidence?${q}`, {
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
