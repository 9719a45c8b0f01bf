using Ujumbe.AppHost.Extensions;

var builder = DistributedApplication.CreateBuilder(args);

var settings = AppHostSettings.From(builder);
var servers = builder.AddServers(settings);
builder.AddUjumbeServices(servers, settings);

builder.Build().Run();
