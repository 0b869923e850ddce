/** One sample of a scrape: `name{labels} value`. */
type Sample = { name: string; labels: Record<string, string>; value: number };

export type Scrape = {
  status: number;
  /** The sum of the samples named `name` that carry every label given; 0 when none does (a counter not yet counted). */
  value(name: string, labels?: Record<string, string>): number;
};

/** GET /metrics as Prometheus scrapes it, with a bearer token if given, read from the text format. */
export async function scrape(metricsUrl: string, token?: string): Promise<Scrape> {
  const response = await fetch(metricsUrl, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const samples = response.ok ? parseSamples(await response.text()) : [];
  return {
    status: response.status,
    value: (name, labels = {}) =>
      samples
        .filter((sample) => sample.name === name && Object.entries(labels).every(([label, value]) => sample.labels[label] === value))
        .reduce((sum, sample) => sum + sample.value, 0),
  };
}

function parseSamples(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) return [];
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, label, value]) => [label!, value!]));
    return [{ name: match[1]!, labels, value: Number(match[3]) }];
  });
}
