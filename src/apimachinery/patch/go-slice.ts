// A Go slice header over a JavaScript array. Upstream's strategic merge patch deletes from and appends to
// lists through Go slices that share one backing array with the caller's slice, and then orders the merged
// list by what the caller's slice shows of that array: elements shifted down by deletions, appended ones
// written into the room the deletions freed. kubectl apply's patches (remove one port, add another) hit
// exactly this, so the order of the result depends on it, and we reproduce it rather than guess.
import type { JsonValue } from './json-value.js';

/** The storage slices share, and how many elements fit in it before an append must copy. */
interface Backing {
  array: JsonValue[];
  capacity: number;
}

/** A Go slice: a length over a shared backing array; appending within capacity writes into it. */
export class GoSlice {
  readonly length: number;
  private readonly backing: Backing;

  private constructor(backing: Backing, length: number) {
    this.backing = backing;
    this.length = length;
  }

  /**
   * A slice over `array` itself, so that writes show in it (its length never changes). Its capacity is its
   * length, as for every slice of an object the API server converts to a map.
   */
  static over(array: JsonValue[]): GoSlice {
    return new GoSlice({ array, capacity: array.length }, array.length);
  }

  get(i: number): JsonValue {
    return this.backing.array[i] as JsonValue;
  }

  set(i: number, v: JsonValue): void {
    this.backing.array[i] = v;
  }

  /** s[:n]. */
  reslice(n: number): GoSlice {
    return new GoSlice(this.backing, n);
  }

  /** append(s, items...): in place when the capacity allows, else into a new array of its own. */
  append(...items: JsonValue[]): GoSlice {
    if (this.length + items.length <= this.backing.capacity) {
      items.forEach((v, i) => this.set(this.length + i, v));
      return new GoSlice(this.backing, this.length + items.length);
    }
    const array = [...this.toArray(), ...items];
    return new GoSlice({ array, capacity: Number.POSITIVE_INFINITY }, array.length);
  }

  /** The elements from index `from` on, copied out. */
  toArray(from = 0): JsonValue[] {
    return this.backing.array.slice(from, this.length);
  }
}
