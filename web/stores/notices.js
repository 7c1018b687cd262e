// Toasts: short messages in a corner, announced to screen readers. Errors stay until read.
import { defineStore } from "pinia";
import { ref } from "vue";

export const useNoticesStore = defineStore("notices", () => {
  const notices = ref([]);
  let serial = 0;

  function dismiss(id) {
    notices.value = notices.value.filter((notice) => notice.id !== id);
  }

  function push(kind, text, { title = "", seconds } = {}) {
    const id = ++serial;
    notices.value = [...notices.value.slice(-4), { id, kind, title, text }];
    const stay = seconds ?? (kind === "error" ? 12 : 5);
    if (stay > 0) setTimeout(() => dismiss(id), stay * 1000);
    return id;
  }

  return {
    notices,
    dismiss,
    info: (text, options) => push("info", text, options),
    success: (text, options) => push("success", text, options),
    warning: (text, options) => push("warning", text, options),
    /** An ApiError (or any Error) shown in words: its title, and the server's detail. */
    error(error, options = {}) {
      const text = typeof error === "string" ? error : error?.message || "Something went wrong.";
      const title = options.title ?? (typeof error === "object" && error?.title ? error.title : "");
      return push("error", text, { ...options, title: title && title !== text.replace(/\.$/, "") ? title : "" });
    },
  };
});
