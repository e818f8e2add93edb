// The pseudonymiser page: copy a result to the clipboard or save it as a text file.
document.addEventListener("click", (ev) => {
  const copy = ev.target.closest("[data-copy]");
  if (copy) {
    const area = document.getElementById(copy.dataset.copy);
    const done = () => { const old = copy.textContent; copy.textContent = copy.dataset.copied; setTimeout(() => { copy.textContent = old; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(done);
    } else {
      area.select();
      document.execCommand("copy");
      done();
    }
  }
  const dl = ev.target.closest("[data-download]");
  if (dl) {
    const area = document.getElementById(dl.dataset.download);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([area.value], { type: "text/plain;charset=utf-8" }));
    a.download = dl.dataset.filename;
    a.click();
    URL.revokeObjectURL(a.href);
  }
});

// Choosing a file: text files fill the text box; documents and e-mails go to the server as base64.
document.addEventListener("change", (ev) => {
  if (ev.target.id !== "upload" || !ev.target.files.length) return;
  const file = ev.target.files[0];
  const name = file.name.toLowerCase();
  const text = document.getElementById("text");
  const b64 = document.getElementById("file_b64");
  document.getElementById("file_name").value = file.name;
  const reader = new FileReader();
  if (/\.(txt|md|csv)$/.test(name)) {
    reader.onload = () => { text.value = reader.result; b64.value = ""; };
    if (name.endsWith(".csv")) document.getElementById("format").value = "csv";
    reader.readAsText(file);
  } else {
    reader.onload = () => { b64.value = String(reader.result).split(",")[1] || ""; text.required = false; };
    reader.readAsDataURL(file);
  }
});
