// A modal question with a confirm and (unless hidden) a cancel button.
import { defineComponent } from "vue";
import ModalDialog from "./ModalDialog.js";

export default defineComponent({
  name: "ConfirmDialog",
  components: { ModalDialog },
  props: {
    open: { type: Boolean, required: true },
    title: { type: String, required: true },
    confirmLabel: { type: String, default: "Confirm" },
    cancelLabel: { type: String, default: "Cancel" },
    danger: { type: Boolean, default: false },
    busy: { type: Boolean, default: false },
    hideCancel: { type: Boolean, default: false },
  },
  emits: ["confirm", "cancel"],
  setup(props, { emit }) {
    function onClose() {
      if (!props.hideCancel && !props.busy) emit("cancel");
    }
    return { onClose };
  },
  template: `
    <modal-dialog :open="open" :title="title" @close="onClose">
      <slot></slot>
      <template #actions>
        <button v-if="!hideCancel" type="button" class="button button--secondary" @click="$emit('cancel')" :disabled="busy">{{ cancelLabel }}</button>
        <button type="button" :class="['button', { 'button--danger': danger }]" @click="$emit('confirm')" :disabled="busy">{{ confirmLabel }}</button>
      </template>
    </modal-dialog>`,
});
