namespace Ujumbe.Web.Extensions;

public static class WebServiceExtensions
{
    /// <summary>The dashboard talks only to the gateway, like any other client.</summary>
    public static IHostApplicationBuilder AddWebServices(this IHostApplicationBuilder builder)
    {
        // Found by service discovery (services__gateway__http__0); the placeholder page does not call it yet.
        builder.Services.AddHttpClient("gateway", http => http.BaseAddress = new Uri("http://gateway"));
        return builder;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.MapDefaultEndpoints(publicFacing: true);
        app.MapGet("/", () => TypedResults.Content(HomePage, "text/html; charset=utf-8"));
        return app;
    }

    // The dashboard's pages arrive with their own issue; until then this says where things are.
    private const string HomePage = """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Ujumbe</title></head>
        <body>
        <h1>Ujumbe</h1>
        <p>SMS for East and Southern Africa. The dashboard is on its way; the API is served by the gateway under <code>/v1</code>.</p>
        </body>
        </html>
        """;
}
