// The history page: deleting a chat asks in a dialog instead of the confirmation page. The row's
// form posts with confirm=yes only once the shopper has chosen "Delete for good".

export function start() {
  const dialog = document.getElementById("delete-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return; // the confirmation page asks instead
  const date = dialog.querySelector("[data-dialog-date]");
  let pending = null;

  for (const form of document.querySelectorAll("form.history-delete")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      pending = form;
      date.textContent = form.dataset.chatDate;
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  dialog.addEventListener("close", () => {
    const form = pending;
    pending = null;
    if (!form) return;
    if (dialog.returnValue === "delete") {
      form.elements.confirm.value = "yes";
      form.querySelector("button").disabled = true;
      form.submit();
    } else {
      form.querySelector("button").focus();
    }
  });
}
