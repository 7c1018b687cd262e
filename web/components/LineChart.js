// Percent over time as an SVG line (0-100 %), with the points also in a hidden table.
import { computed, defineComponent } from "vue";

export default defineComponent({
  name: "LineChart",
  props: {
    points: { type: Array, required: true }, // [{label, value (0-100)}] in time order
    title: { type: String, required: true },
    reference: { type: Number, default: null }, // e.g. a passing score, drawn dashed
  },
  setup(props) {
    const width = 560;
    const height = 220;
    const pad = { left: 40, right: 12, top: 12, bottom: 34 };
    const usableW = width - pad.left - pad.right;
    const usableH = height - pad.top - pad.bottom;
    const y = (value) => pad.top + usableH * (1 - Math.max(0, Math.min(100, value)) / 100);
    const shapes = computed(() => {
      const n = props.points.length;
      return props.points.map((point, index) => ({
        ...point,
        x: pad.left + (n === 1 ? usableW / 2 : (usableW * index) / (n - 1)),
        y: y(point.value),
        key: `${index}-${point.label}`,
      }));
    });
    const path = computed(() => shapes.value.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" "));
    const ticks = [0, 50, 100].map((value) => ({ value, y: y(value) }));
    const referenceY = computed(() => (props.reference == null ? null : y(props.reference)));
    return { width, height, pad, shapes, path, ticks, referenceY };
  },
  template: `
    <figure class="chart-figure">
      <svg class="chart" :viewBox="'0 0 ' + width + ' ' + height" role="img" :aria-label="title">
        <g v-for="tick in ticks" :key="tick.value">
          <line class="axis" :x1="pad.left" :x2="width - pad.right" :y1="tick.y" :y2="tick.y"></line>
          <text :x="pad.left - 6" :y="tick.y + 4" text-anchor="end">{{ tick.value }}%</text>
        </g>
        <line v-if="referenceY !== null" class="pass-line" :x1="pad.left" :x2="width - pad.right" :y1="referenceY" :y2="referenceY"></line>
        <path class="line" :d="path"></path>
        <g v-for="point in shapes" :key="point.key">
          <circle class="dot" :cx="point.x" :cy="point.y" r="4"></circle>
          <text :x="point.x" :y="height - pad.bottom + 16" text-anchor="middle">{{ point.label }}</text>
        </g>
      </svg>
      <table class="visually-hidden">
        <caption>{{ title }}</caption>
        <tr><th scope="col">When</th><th scope="col">Percent</th></tr>
        <tr v-for="point in shapes" :key="point.key"><td>{{ point.label }}</td><td>{{ point.value }}%</td></tr>
      </table>
    </figure>`,
});
