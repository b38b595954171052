/** Asks in the page's `<dialog data-testid="confirm">`; resolves true only when the operator says yes. */
export function confirmAction(question: string, yesLabel: string): Promise<boolean> {
  const dialog = document.querySelector<HTMLDialogElement>('dialog[data-testid="confirm"]')!;
  dialog.querySelector("#confirm-question")!.textContent = question;
  dialog.querySelector('[data-testid="confirm-yes"]')!.textContent = yesLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true }));
}
