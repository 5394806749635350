/**
 * Makes the documents read from a snapshot share their repeated strings. V8's deserializer makes a new string for
 * every occurrence: 100k customers' read models hold 10M strings, 7M of them repeating an earlier one (an owner's
 * id in every record of theirs, a department path, a stage, a currency, a contact's `id` beside its `_id`).
 *
 * A field's values are shared while the field has few distinct ones (owners, enums, days); a field that shows
 * many (ids, names, times) is given up after MAX_DISTINCT values, so the cost stays one small-map lookup per
 * string; the strings of such fields are shared within their document only (its `id` beside its `_id`, equal
 * times, a phone in two places). Values are never changed, only which copy of an equal string a document holds.
 */
const MAX_DISTINCT = 2_048;
/** Longer strings are not looked up: notes and texts rarely repeat, and hashing them costs. */
const MAX_LENGTH = 64;

export class StringSharer {
  /** By property name (the same name means the same kind of value in every collection): its values, or null once given up. */
  private readonly fields = new Map<string, Map<string, string> | null>();
  /** The strings of many-valued fields in the document being walked (a document repeats its own: times, phones). */
  private readonly local = new Map<string, string>();

  /** Shares the strings of a document (not frozen yet) with those seen before; returns it. */
  share<T extends Record<string, unknown>>(doc: T): T {
    this.shareValue('', doc);
    this.local.clear();
    return doc;
  }

  /**
   * A value under `field`, its strings shared: a string itself, an array's items (values of the array's field),
   * an object's properties (each under its own name). Every value is assigned back, whatever it is: an equal
   * string compares equal, so `!==` cannot tell the copies apart.
   */
  private shareValue(field: string, value: unknown): unknown {
    if (typeof value === 'string') return this.shared(field, value);
    if (Array.isArray(value)) for (let i = 0; i < value.length; i++) value[i] = this.shareValue(field, value[i]);
    else if (value !== null && typeof value === 'object') {
      const object = value as Record<string, unknown>;
      for (const key in object) object[key] = this.shareValue(key, object[key]);
    }
    return value;
  }

  private shared(field: string, value: string): string {
    if (value.length > MAX_LENGTH) return value;
    let values = this.fields.get(field);
    if (values === null) {
      const known = this.local.get(value);
      if (known !== undefined) return known;
      this.local.set(value, value);
      return value;
    }
    if (values === undefined) this.fields.set(field, (values = new Map()));
    const known = values.get(value);
    if (known !== undefined) return known;
    if (values.size >= MAX_DISTINCT) this.fields.set(field, null);
    else values.set(value, value);
    return value;
  }
}
