// The signed-in user's token, kept in localStorage so a reload keeps the session, and the message the login
// screen shows after a forced logout ("session expired").

export interface User {
  id: number;
  name: string;
  display_name: string;
  created_at: string;
}

export interface LoginAnswer {
  token: string;
  token_id: number;
  expires_at: string;
  user: User;
}

const kToken = 'tessera.token';
const kUser = 'tessera.user';
const kExpires = 'tessera.expires_at';
const kProject = 'tessera.project';
const kMessage = 'tessera.login_message';

export const session = {
  token(): string | null {
    return localStorage.getItem(kToken);
  },
  user(): User | null {
    const raw = localStorage.getItem(kUser);
    if (!raw) return null;
    try {
      return JSON.parse(raw) as User;
    } catch {
      return null;
    }
  },
  isSignedIn(): boolean {
    return localStorage.getItem(kToken) !== null;
  },
  signIn(answer: LoginAnswer): void {
    localStorage.setItem(kToken, answer.token);
    localStorage.setItem(kUser, JSON.stringify(answer.user));
    localStorage.setItem(kExpires, answer.expires_at);
    sessionStorage.removeItem(kMessage);
  },
  // Forgets the token; message (if any) is shown by the login screen until the next sign-in.
  signOut(message?: string): void {
    localStorage.removeItem(kToken);
    localStorage.removeItem(kUser);
    localStorage.removeItem(kExpires);
    if (message) sessionStorage.setItem(kMessage, message);
  },
  // Kept until the next sign-in, so every render of the login screen (a 401 burst can render it more than
  // once) shows it.
  loginMessage(): string | null {
    return sessionStorage.getItem(kMessage);
  },
  // The project the browser, feed and viewer work in; chosen on the projects screen.
  projectId(): number | null {
    const raw = localStorage.getItem(kProject);
    const id = raw ? Number(raw) : NaN;
    return Number.isInteger(id) && id > 0 ? id : null;
  },
  setProjectId(id: number): void {
    localStorage.setItem(kProject, String(id));
    document.dispatchEvent(new CustomEvent('tessera:project', { detail: id }));
  },
};
