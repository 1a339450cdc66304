// Preload (`--import` before llm-otel/register) for apps whose calls must be dated in the past or
// future: shifts Date (now(), `new Date()`) by TEST_CLOCK_SHIFT_MS. performance.now() is untouched,
// so durations stay real.

const shift = Number(process.env.TEST_CLOCK_SHIFT_MS || 0);
if (shift) {
  const RealDate = Date;
  const now = () => RealDate.now() + shift;
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(now());
      else super(...args);
    }
    static now() {
      return now();
    }
  }
  globalThis.Date = ShiftedDate;
}
