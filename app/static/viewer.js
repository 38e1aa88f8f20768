// Body of the source viewer's js_on_load (gr.HTML; `element` is the component, `watch`
// re-runs on a new value): scroll the highlighted sentence into view.
const scrollToTarget = () => {
  const target = element.querySelector('mark.rag-target');
  if (target) target.scrollIntoView({block: 'center', inline: 'nearest'});
};
watch('value', scrollToTarget);
scrollToTarget();
