// Who is signed in, their memberships, and the tenant the URL names.
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { useParams } from "react-router-dom";
import { api, ApiError, setUnauthenticatedHandler } from "../api/client";
import type { Capability, Me, Membership } from "../api/types";

interface SessionValue {
  me: Me | null;
  loading: boolean;
  login(username: string, password: string): Promise<Me>;
  logout(): Promise<void>;
  refresh(): Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: React.ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);

  const refresh = useCallback(async () => {
    try {
      setMe(await api<Me>("/auth/me"));
    } catch (err) {
      if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 403)) console.warn(err);
      setMe(null);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void refresh();
    setUnauthenticatedHandler(() => setMe(null));
    return () => setUnauthenticatedHandler(null);
  }, [refresh]);

  const login = useCallback(async (username: string, password: string) => {
    await api("/auth/login", { method: "POST", body: { username, password } });
    // the login answer has the memberships too; /auth/me has the whole user
    const current = await api<Me>("/auth/me");
    setMe(current);
    return current;
  }, []);

  const logout = useCallback(async () => {
    try {
      await api("/auth/logout", { method: "POST" });
    } finally {
      setMe(null);
    }
  }, []);

  const value = useMemo(() => ({ me, loading, login, logout, refresh }), [me, loading, login, logout, refresh]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error("useSession outside SessionProvider");
  return ctx;
}

export interface TenantContext {
  tenant: string;
  membership: Membership | null;
  can(cap: Capability): boolean;
}

export function useTenant(): TenantContext {
  const { tenant = "" } = useParams();
  const { me } = useSession();
  const membership = me?.memberships.find((m) => m.tenant.slug === tenant) ?? null;
  return useMemo(
    () => ({ tenant, membership, can: (cap: Capability) => !!membership?.capabilities.includes(cap) }),
    [tenant, membership],
  );
}
