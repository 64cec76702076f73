/** A test image the model got wrong, with how sure it was. */
export interface ConfidentMistake {
  /** Index of the image in the test split. */
  readonly index: number;
  /** Dataset-relative name of the image's file. */
  readonly name: string;
  readonly actual: string;
  readonly predicted: string;
  /** Probability of the predicted class. */
  readonly confidence: number;
  /** Every class's probability, in class order. */
  readonly probabilities: Readonly<Record<string, number>>;
}

/**
 * The test split's mistakes, most confident first (ties by name), at most `limit` of them: the
 * images the model is surest about and wrong on, which are the ones most worth a look when
 * deciding what data to add (mislabelled files, a class the model confuses, a missing kind of
 * photo), and how many mistakes there are in all. `probabilities` is row-major
 * [labels.length × classes.length]. Pure.
 */
export function mostConfidentMistakes(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  classes: readonly string[],
  names: readonly string[],
  limit = 12,
): { readonly mistakes: ConfidentMistake[]; readonly wrong: number } {
  const k = classes.length;
  const wrong: ConfidentMistake[] = [];
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if ((probabilities[i * k + c] as number) > (probabilities[i * k + best] as number)) best = c;
    const actual = labels[i] as number;
    if (best === actual) continue;
    wrong.push({
      index: i,
      name: names[i] ?? String(i),
      actual: classes[actual] ?? String(actual),
      predicted: classes[best] ?? String(best),
      confidence: probabilities[i * k + best] as number,
      probabilities: Object.fromEntries(classes.map((c, j) => [c, probabilities[i * k + j] as number])),
    });
  }
  wrong.sort((a, b) => b.confidence - a.confidence || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { mistakes: wrong.slice(0, Math.max(0, limit)), wrong: wrong.length };
}
