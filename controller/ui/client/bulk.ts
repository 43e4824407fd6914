// The rollouts page's bulk buttons name how many rollouts are ticked in their confirmation: the
// server renders the text with {n} in data-confirm; this puts the count into hx-confirm as boxes
// change (delegated, so it survives the region being swapped by an action's answer).
const plural = (k: number) => `${k} rollout${k === 1 ? '' : 's'}`;

export function startBulk(): void {
  document.addEventListener('change', (e) => {
    const form = (e.target as Element | null)?.closest?.('form#bulk');
    if (!form) return;
    const k = form.querySelectorAll('input[name="ids"]:checked').length;
    for (const b of form.querySelectorAll<HTMLElement>('button[data-bulk][data-confirm]')) b.setAttribute('hx-confirm', b.dataset.confirm!.replace('{n}', plural(k)));
  });
}
