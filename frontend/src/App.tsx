// Routes. A browser router (HTML5 history): Django serves index.html for every non-API path.
import { createBrowserRouter, Navigate, Outlet, RouterProvider, type RouteObject } from "react-router-dom";
import { SessionProvider } from "./auth/session";
import { AdminLayout, AuditPage, MembersPage, TokensPage } from "./pages/AdminPages";
import { RequireAuth, RootRedirect, TenantShell } from "./pages/AppShell";
import { BlueprintDetailPage } from "./pages/BlueprintDetailPage";
import { BlueprintsPage } from "./pages/BlueprintsPage";
import { CatalogEntryPage } from "./pages/CatalogEntryPage";
import { CatalogPage } from "./pages/CatalogPage";
import { DashboardPage } from "./pages/DashboardPage";
import { DeploymentDetailPage } from "./pages/DeploymentDetailPage";
import { DeploymentsPage } from "./pages/DeploymentsPage";
import { LoginPage } from "./pages/LoginPage";

function Root() {
  return (
    <SessionProvider>
      <Outlet />
    </SessionProvider>
  );
}

function NotFound() {
  return (
    <main className="page">
      <h1>Not found</h1>
      <p>There is nothing at this address.</p>
      <a href="/">Go to your workspace</a>
    </main>
  );
}

export const routes: RouteObject[] = [
  {
    element: <Root />,
    children: [
      { path: "/login", element: <LoginPage /> },
      {
        path: "/",
        element: (
          <RequireAuth>
            <Outlet />
          </RequireAuth>
        ),
        children: [
          { index: true, element: <RootRedirect /> },
          {
            path: "t/:tenant",
            element: <TenantShell />,
            children: [
              { index: true, element: <DashboardPage /> },
              { path: "blueprints", element: <BlueprintsPage /> },
              { path: "blueprints/:slug", element: <BlueprintDetailPage /> },
              {
                path: "blueprints/:slug/edit/:version",
                // React Flow and the layout engine load with the editor only
                lazy: async () => ({ Component: (await import("./pages/EditorPage")).EditorPage }),
              },
              { path: "catalog", element: <CatalogPage /> },
              { path: "catalog/:id", element: <CatalogEntryPage /> },
              { path: "deployments", element: <DeploymentsPage /> },
              { path: "deployments/:id", element: <DeploymentDetailPage /> },
              {
                path: "admin",
                element: <AdminLayout />,
                children: [
                  { index: true, element: <Navigate to="members" replace /> },
                  { path: "members", element: <MembersPage /> },
                  { path: "tokens", element: <TokensPage /> },
                  { path: "audit", element: <AuditPage /> },
                ],
              },
            ],
          },
          { path: "*", element: <NotFound /> },
        ],
      },
    ],
  },
];

let router: ReturnType<typeof createBrowserRouter> | null = null;

export function App() {
  router ??= createBrowserRouter(routes);
  return <RouterProvider router={router} />;
}
