/** What the streamer sets in the overlay's URL (query string), and its token (fragment). See README, "Add Ovation to OBS". */
export type Settings = {
  token: string | null;
  /** Streaks below this many coins raise no alert (until they grow past it). */
  minCoins: number;
  /** Seconds an alert stays after its streak last changed. */
  durationMs: number;
  sound: boolean;
  /** Alerts on screen at once; the oldest leaves first. */
  maxAlerts: number;
  /** Asked of the server: how long a streak stays open without a gift (ms), or its default. */
  streakQuietMs: number | null;
};

const COLOUR = /^(#?[0-9a-f]{3,8}|[a-z]{3,20}|rgba?\([\d\s.,%]{5,40}\))$/i;
const FONT = /^[\w\s-]{1,40}$/;

/** A whole number from the URL, within bounds; the fallback when it is not one. */
const number = (text: string | null, min: number, max: number, fallback: number) => {
  const value = text === null ? NaN : Math.floor(Number(text));
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
};

/** Reads the settings; looks (colours, font, sizes) go straight onto CSS variables, checked first. */
export function readSettings(location: Location, root: HTMLElement): Settings {
  const query = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const colours: [string, string][] = [
    ['text', '--ovation-text'],
    ['accent', '--ovation-accent'],
    ['background', '--ovation-background'],
  ];
  for (const [name, variable] of colours) {
    const value = query.get(name);
    if (value && COLOUR.test(value)) root.style.setProperty(variable, /^[0-9a-f]{3,8}$/i.test(value) ? `#${value}` : value);
  }
  const font = query.get('font');
  if (font && FONT.test(font)) root.style.setProperty('--ovation-font', `"${font}", system-ui, sans-serif`);
  if (query.has('size')) root.style.setProperty('--ovation-size', `${number(query.get('size'), 8, 200, 28)}px`);
  if (query.has('width')) root.style.setProperty('--ovation-width', `${number(query.get('width'), 100, 4000, 480)}px`);
  return {
    token: fragment.get('token'),
    minCoins: number(query.get('minCoins'), 0, Number.MAX_SAFE_INTEGER, 0),
    durationMs: number(query.get('duration'), 1, 600, 6) * 1000,
    sound: query.get('sound') === 'on',
    maxAlerts: number(query.get('max'), 1, 50, 3),
    streakQuietMs: query.has('streakQuiet') ? number(query.get('streakQuiet'), 500, 30_000, 3_000) : null,
  };
}
