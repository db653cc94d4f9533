// The frame of every signed-in page: navigation, tenant switcher, live status.
import { Navigate, NavLink, Outlet, useLocation, useNavigate } from "react-router-dom";
import { LiveProvider, useLiveState } from "../api/live";
import { useSession, useTenant } from "../auth/session";
import { Spinner } from "../components/ui";

export function RequireAuth({ children }: { children: React.ReactNode }) {
  const { me, loading } = useSession();
  const location = useLocation();
  if (loading) return <Spinner />;
  if (!me) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return <>{children}</>;
}

export function RootRedirect() {
  const { me } = useSession();
  const first = me?.memberships[0];
  if (!first) {
    return (
      <main className="page">
        <h1>No workspace yet</h1>
        <p>Your account is not a member of any tenant. Ask an admin to add you.</p>
      </main>
    );
  }
  return <Navigate to={`/t/${first.tenant.slug}`} replace />;
}

function LiveDot() {
  const state = useLiveState();
  return (
    <span className={`live-dot live-${state}`} title={`Live updates: ${state}`} data-testid="live-state">
      <span aria-hidden="true" />
      {state === "open" ? "live" : state}
    </span>
  );
}

export function TenantShell() {
  const { me, logout } = useSession();
  const { tenant, membership, can } = useTenant();
  const navigate = useNavigate();
  const location = useLocation();
  if (!membership) {
    return (
      <main className="page">
        <h1>Not found</h1>
        <p>There is no workspace “{tenant}” for you.</p>
        <NavLink to="/">Go to your workspace</NavLink>
      </main>
    );
  }
  const switchTenant = (slug: string) => {
    // keep the section (blueprints, catalog, an admin page), not the object: it belongs to a tenant
    const rest = location.pathname.split("/").slice(3);
    let section = rest[0] ?? "";
    if (section === "admin") {
      const admin = me?.memberships.find((m) => m.tenant.slug === slug)?.capabilities.includes("admin");
      section = admin ? `admin/${rest[1] ?? "members"}` : "";
    }
    navigate(`/t/${slug}${section ? `/${section}` : ""}`);
  };
  return (
    <LiveProvider tenant={tenant}>
      <div className="shell">
        <a href="#main" className="skip">
          Skip to content
        </a>
        <header className="topbar">
          <NavLink to={`/t/${tenant}`} className="brand" end>
            AIoT Studio
          </NavLink>
          <nav aria-label="Main">
            <NavLink to={`/t/${tenant}`} end data-testid="nav-dashboard">
              Dashboard
            </NavLink>
            <NavLink to={`/t/${tenant}/blueprints`} data-testid="nav-blueprints">
              Blueprints
            </NavLink>
            <NavLink to={`/t/${tenant}/deployments`} data-testid="nav-deployments">
              Deployments
            </NavLink>
            <NavLink to={`/t/${tenant}/catalog`} data-testid="nav-catalog">
              Catalog
            </NavLink>
            {can("admin") && (
              <NavLink to={`/t/${tenant}/admin/members`} data-testid="nav-admin">
                Admin
              </NavLink>
            )}
          </nav>
          <span className="spacer" />
          <LiveDot />
          <label className="tenant-switch">
            <span className="sr-only">Workspace</span>
            <select value={tenant} onChange={(e) => switchTenant(e.target.value)} data-testid="tenant-switcher">
              {me?.memberships.map((m) => (
                <option key={m.tenant.slug} value={m.tenant.slug}>
                  {m.tenant.name} ({m.role})
                </option>
              ))}
            </select>
          </label>
          <span className="user" data-testid="current-user">
            {me?.user.username}
          </span>
          <button type="button" className="link" onClick={() => void logout().then(() => navigate("/login"))} data-testid="logout">
            Sign out
          </button>
        </header>
        <main id="main" className="main">
          <Outlet />
        </main>
      </div>
    </LiveProvider>
  );
}
