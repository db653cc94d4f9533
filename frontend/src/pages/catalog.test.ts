import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { catalogQuery, describeDiff, filtersFromSearch, installErrors, searchFromFilters, slugProblem } from "./catalog";

describe("the catalog's filters", () => {
  it("round-trip through the address, dropping what is empty or the first page", () => {
    const f = filtersFromSearch(new URLSearchParams("q=cold&tag=door&page=3"));
    expect(f).toEqual({ q: "cold", category: "", tag: "door", page: 3 });
    expect(searchFromFilters(f)).toEqual({ q: "cold", tag: "door", page: "3" });
    expect(searchFromFilters({ ...f, page: 1, q: "" })).toEqual({ tag: "door" });
    expect(filtersFromSearch(new URLSearchParams("page=-2")).page).toBe(1);
    expect(filtersFromSearch(new URLSearchParams("page=x")).page).toBe(1);
  });

  it("become the API's query, trimmed, a page at a time", () => {
    expect(catalogQuery({ q: " cold ", category: "cold-chain", tag: "", page: 2 })).toEqual({
      q: "cold",
      category: "cold-chain",
      tag: "",
      page: 2,
      page_size: 12,
    });
  });
});

describe("install errors", () => {
  it("a bad parameter value goes next to its field", () => {
    const err = new ApiError(
      400,
      "validation",
      "/params/properties/high_limit_c: parameter 'high_limit_c': 99 is greater than the maximum of 40",
      "params",
    );
    expect(installErrors(err)).toEqual({ params: { high_limit_c: "99 is greater than the maximum of 40" }, fields: {}, general: null });
  });

  it("an undeclared parameter, a taken slug and anything else", () => {
    expect(installErrors(new ApiError(400, "validation", "/params: no parameter named 'x' is declared", "params")).general).toMatch(/no parameter/);
    expect(installErrors(new ApiError(409, "conflict", "globex already has a blueprint 'cold'", "slug")).fields).toEqual({
      slug: "globex already has a blueprint 'cold'",
    });
    expect(installErrors(new ApiError(403, "forbidden", "your role may not", undefined)).general).toBe("your role may not");
    expect(installErrors(new Error("offline")).general).toBe("offline");
  });

  it("slugs are checked before they are sent", () => {
    expect(slugProblem("cold-chain-2")).toBeNull();
    expect(slugProblem("")).toBe("Required.");
    expect(slugProblem("Cold Chain")).toMatch(/Lowercase/);
    expect(slugProblem("a--b")).toMatch(/Lowercase/);
    expect(slugProblem("a".repeat(64))).toMatch(/63/);
  });
});

describe("an upgrade's changes in a sentence", () => {
  it("counts what is added, removed and changed", () => {
    expect(
      describeDiff({
        nodes: { added: ["a"], removed: [], changed: ["b", "c"] },
        edges: { added: [], removed: ["x→y"] },
        params: { added: [], removed: [], changed: ["limit"] },
      }),
    ).toBe("nodes: 2 changed, 1 added · edges: 1 removed · parameters: 1 changed");
    expect(
      describeDiff({ nodes: { added: [], removed: [], changed: [] }, edges: { added: [], removed: [] }, params: { added: [], removed: [], changed: [] } }),
    ).toBe("no change to the graph");
  });
});
