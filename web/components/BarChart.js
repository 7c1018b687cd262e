// A labelled SVG bar chart with its numbers also in a visually hidden table for screen readers.
import { computed, defineComponent } from "vue";

export default defineComponent({
  name: "BarChart",
  props: {
    bars: { type: Array, required: true }, // [{label, value}]
    title: { type: String, required: true },
    valueLabel: { type: String, default: "Count" },
  },
  setup(props) {
    const width = 560;
    const height = 220;
    const pad = { left: 36, right: 8, top: 12, bottom: 34 };
    const shapes = computed(() => {
      const max = Math.max(1, ...props.bars.map((bar) => bar.value));
      const span = (width - pad.left - pad.right) / Math.max(1, props.bars.length);
      const usable = height - pad.top - pad.bottom;
      return props.bars.map((bar, index) => {
        const h = (bar.value / max) * usable;
        return {
          ...bar,
          x: pad.left + index * span + span * 0.12,
          y: pad.top + usable - h,
          w: span * 0.76,
          h,
          cx: pad.left + index * span + span / 2,
        };
      });
    });
    const ticks = computed(() => {
      const max = Math.max(1, ...props.bars.map((bar) => bar.value));
      return [0, Math.ceil(max / 2), max].map((value) => ({
        value,
        y: pad.top + (height - pad.top - pad.bottom) * (1 - value / max),
      }));
    });
    return { width, height, pad, shapes, ticks };
  },
  template: `
    <figure class="chart-figure">
      <svg class="chart" :viewBox="'0 0 ' + width + ' ' + height" role="img" :aria-label="title">
        <line class="axis" :x1="pad.left" :x2="width - pad.right" :y1="height - pad.bottom" :y2="height - pad.bottom"></line>
        <g v-for="tick in ticks" :key="tick.value">
          <text :x="pad.left - 6" :y="tick.y + 4" text-anchor="end">{{ tick.value }}</text>
        </g>
        <g v-for="bar in shapes" :key="bar.label">
          <rect class="bar" :x="bar.x" :y="bar.y" :width="bar.w" :height="bar.h" rx="3"></rect>
          <text v-if="bar.value" :x="bar.cx" :y="bar.y - 3" text-anchor="middle">{{ bar.value }}</text>
          <text :x="bar.cx" :y="height - pad.bottom + 16" text-anchor="middle">{{ bar.label }}</text>
        </g>
      </svg>
      <table class="visually-hidden">
        <caption>{{ title }}</caption>
        <tr><th scope="col">Range</th><th scope="col">{{ valueLabel }}</th></tr>
        <tr v-for="bar in bars" :key="bar.label"><td>{{ bar.label }}</td><td>{{ bar.value }}</td></tr>
      </table>
    </figure>`,
});
