// A formula of a material, typeset by KaTeX as MathML (which browsers draw with their own math
// fonts: no stylesheet or font files to serve). KaTeX is loaded the first time a formula is
// shown. Its output is KaTeX's own markup from the LaTeX source (commands that could link or
// inject, \href, \url, \htmlClass..., stay off: trust is false); until it is loaded, or where the
// LaTeX does not parse, the source is shown as it is.
import { defineComponent, onMounted, ref, watch } from "vue";

let katex = null;
function loadKatex() {
  katex ??= import("katex").then((module) => module.default);
  return katex;
}

export default defineComponent({
  name: "MathFormula",
  props: {
    tex: { type: String, required: true },
    display: { type: Boolean, default: false },
  },
  setup(props) {
    const markup = ref("");
    async function render() {
      try {
        const engine = await loadKatex();
        markup.value = engine.renderToString(props.tex, {
          output: "mathml", displayMode: props.display, throwOnError: true, trust: false, maxSize: 20, maxExpand: 200,
        });
      } catch {
        markup.value = ""; // not LaTeX KaTeX knows: the source stays
      }
    }
    onMounted(render);
    watch(() => props.tex, render);
    return { markup };
  },
  template: `
    <span v-if="markup" :class="['math', { 'math--display': display }]" :title="tex" v-html="markup"></span>
    <code v-else :class="['math-source', { 'math--display': display }]">{{ display ? '$$' + tex + '$$' : '$' + tex + '$' }}</code>`,
});
