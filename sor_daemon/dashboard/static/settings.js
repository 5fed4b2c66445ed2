/** The page's one setting, the API key, kept in this browser's localStorage. */

const STORAGE_KEY = "sor-daemon.apiKey";

/** The saved API key, or "" when none is set (an open API on loopback needs none). */
export function apiKey() {
  return localStorage.getItem(STORAGE_KEY) ?? "";
}

/** Saves the key (trimmed); an empty one removes it. */
export function saveApiKey(key) {
  const trimmed = key.trim();
  if (trimmed) {
    localStorage.setItem(STORAGE_KEY, trimmed);
  } else {
    localStorage.removeItem(STORAGE_KEY);
  }
}
